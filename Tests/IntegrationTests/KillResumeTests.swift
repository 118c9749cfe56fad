import Foundation
import HubCore
import HubFakeHub
import HubStore
import HubTransfer
import Testing

/// Runs the real `hubmirror` binary: kill -9 in the middle of a sync, rerun, and check that no
/// journaled byte is fetched again. Also the CLI's exit codes.
@Suite struct CLITests {
    static let repo = FakeHub.model("acme/resume")

    final class Lines: @unchecked Sendable {
        let handle: FileHandle
        var buffer = Data()
        init(_ h: FileHandle) { handle = h }
        /// The next stdout line, or nil at end of file. Blocks the calling thread.
        func next() -> String? {
            while true {
                if let nl = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...nl)
                    return line
                }
                let d = handle.availableData
                if d.isEmpty { return nil }
                buffer.append(d)
            }
        }
    }

    func hubmirror(_ args: [String]) throws -> Process { try startHubmirror(args) }
    func run(_ args: [String]) async throws -> (Int32, String, String) { try await runHubmirror(args) }

    @Test func killDashNineThenRerunFetchesNoJournaledByteAgain() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let size: Int64 = 24 << 20
            let commit = try hub.commit(Self.repo, files: ["w.bin": .pattern(seed: 11, size: size, lfs: true), "a.txt": "a\n"])
            // Slow enough that the kill lands mid-transfer.
            _ = hub.addFault(FakeHub.FaultRule(.hub, match: .file("w.bin"), times: 1000, action: .trickle(bytesPerSecond: 6 << 20)))
            let args = ["sync", "acme/resume", "--endpoint", hub.endpoint, "--cache-dir", tmp.path, "--json",
                        "--chunk-size", "1M", "--connections", "4"]
            let p = try hubmirror(args)
            let lines = Lines((p.standardOutput as! Pipe).fileHandleForReading)
            let journaledAtKill: Int64 = await withCheckedContinuation { c in
                Thread {
                    var journaled: Int64 = 0
                    while let l = lines.next() {
                        if l.contains("\"journaled\""), l.contains("w.bin"),
                           let obj = try? JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any],
                           let b = obj["bytes"] as? Int64 ?? (obj["bytes"] as? Int).map(Int64.init) {
                            journaled = b
                            if b >= size / 2 { kill(p.processIdentifier, SIGKILL); break }
                        }
                    }
                    p.waitUntilExit()
                    c.resume(returning: journaled)
                }.start()
            }
            #expect(p.terminationReason == .uncaughtSignal, "the sync was killed, not finished")
            #expect(journaledAtKill >= size / 2)
            let target = CacheStore(root: tmp.path).target(Self.repo)
            let etag = try #require(hub.files(Self.repo, commit)["w.bin"]).sha256
            let journalText = String(decoding: FS.readFile(target.partialDirectory + "/\(etag).journal") ?? [], as: UTF8.self)
            let onDisk = try #require(ResumeJournal.parse(journalText, etag: etag, size: size))
            #expect(onDisk.totalBytes >= journaledAtKill)
            #expect(CacheStore(root: tmp.path).readRef(Self.repo, revision: "main") == nil, "nothing published by the killed run")

            hub.removeAllFaults()
            hub.clearLog()
            let (status, out, err) = try await run(args)
            #expect(status == 0, "rerun failed: \(err)")
            #expect(out.contains("\"summary\""))
            // No request of the rerun asks for bytes the journal already held.
            for r in hub.requests where r.filePath == "w.bin" {
                if let range = r.range, let s = Int64(range.dropFirst(6).prefix { $0 != "-" }), let e = Int64(range.split(separator: "-").last ?? "") {
                    #expect(!onDisk.ranges.contains { $0.start <= s && e < $0.end }, "refetched journaled bytes \(range)")
                } else {
                    Issue.record("unranged request in the rerun: \(r)")
                }
            }
            #expect(hub.bytesSent(path: "w.bin") <= size - onDisk.totalBytes)
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
        }
    }

    @Test func sigtermStopsCleanlyWithExit130AndKeepsPartialData() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let size: Int64 = 16 << 20
            let commit = try hub.commit(Self.repo, files: ["w.bin": .pattern(seed: 12, size: size, lfs: true)])
            _ = hub.addFault(FakeHub.FaultRule(.hub, match: .file("w.bin"), times: 1000, action: .trickle(bytesPerSecond: 2 << 20)))
            let p = try hubmirror(["sync", "acme/resume", "--endpoint", hub.endpoint, "--cache-dir", tmp.path, "--json", "--chunk-size", "1M"])
            let lines = Lines((p.standardOutput as! Pipe).fileHandleForReading)
            let sawError: Bool = await withCheckedContinuation { c in
                Thread {
                    var signalled = false
                    var error = false
                    while let l = lines.next() {
                        if !signalled && l.contains("\"journaled\"") { kill(p.processIdentifier, SIGTERM); signalled = true }
                        if l.contains("\"event\":\"error\"") && l.contains("interrupted") { error = true }
                    }
                    p.waitUntilExit()
                    c.resume(returning: error)
                }.start()
            }
            #expect(p.terminationReason == .exit && p.terminationStatus == 130)
            #expect(sawError, "an error event of kind interrupted")
            let target = CacheStore(root: tmp.path).target(Self.repo)
            let etag = try #require(hub.files(Self.repo, commit)["w.bin"]).sha256
            #expect(FS.fileSize(target.partialDirectory + "/\(etag).part") == size, "partial file kept")
            let journal = String(decoding: FS.readFile(target.partialDirectory + "/\(etag).journal") ?? [], as: UTF8.self)
            #expect((ResumeJournal.parse(journal, etag: etag, size: size)?.totalBytes ?? 0) > 0, "journal kept")
            #expect(CacheStore(root: tmp.path).readRef(Self.repo, revision: "main") == nil)
        }
    }

    @Test func exitCodesAreDistinctAndMessagesNameTheCulprit() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            try hub.commit(Self.repo, files: ["a.txt": "a\n"])
            let base = ["--endpoint", hub.endpoint, "--cache-dir", tmp.path]
            let (c1, _, e1) = try await run(["sync", "acme/missing"] + base)
            #expect(c1 == 10 && e1.contains("acme/missing"))
            let (c2, _, e2) = try await run(["sync", "acme/resume", "--revision", "nope"] + base)
            #expect(c2 == 11 && e2.contains("nope"))
            let (c3, _, e3) = try await run(["sync", "bad--id"] + base)
            #expect(c3 == 64 && e3.contains("bad--id"))
            let (c4, _, e4) = try await run(["sync", "acme/resume", "--max-rate", "fast"] + base)
            #expect(c4 == 64 && e4.contains("--max-rate"))
            let (c5, out, _) = try await run(["sync", "acme/resume", "--dry-run", "--json"] + base)
            #expect(c5 == 0 && out.contains("\"added\""))
            #expect(!FS.exists(tmp.path + "/models--acme--resume/snapshots"), "dry run changed nothing")
        }
    }
}
