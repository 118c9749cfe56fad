import Foundation
import HubBundle
import HubCore
import HubFakeHub
import HubStore
import Testing

/// `kill -9` in the middle of an import, then a rerun: what the journal records is not read again.
@Suite struct KillResumeTests {
    final class Lines: @unchecked Sendable {
        let handle: FileHandle
        var buffer = Data()
        init(_ h: FileHandle) { handle = h }
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

    @Test func anImportKilledMidwayResumesWithoutReadingWhatItVerified() async throws {
        try await FakeHub.withHub { hub in
            try hub.loadDemo()
            let tmp = TempDir()
            let a = tmp.file("a"), b = tmp.file("b")
            try await demoStore(hub, at: a)
            let bundle = tmp.file("b.tar")
            try await ok(["export", "--cache-dir", a, "--out", bundle])
            let m = try JSON.decode(BundleManifest.self, from: try await manifestBytes(bundle))
            #expect(m.blobs.count >= 4)
            // The import gets the bundle through a pipe, up to the middle of its last blob, and
            // is killed once it reports the blob before that verified: it is then blocked on the pipe.
            let last = m.blobs.last!, before = m.blobs[m.blobs.count - 2]
            let cut = try await dataOffset(of: last.members[0].name, in: bundle) + last.size / 2
            let p = try start(builtExecutable("hubmirror"), ["import", "-", "--cache-dir", b, "--json"], stdin: true)
            let input = (p.standardInput as! Pipe).fileHandleForWriting
            let lines = Lines((p.standardOutput as! Pipe).fileHandleForReading)
            let verifiedAtKill: [String] = await withCheckedContinuation { c in
                Thread {
                    let data = FileManager.default.contents(atPath: bundle)!
                    input.write(data.prefix(Int(cut)))
                    var verified: [String] = []
                    while let l = lines.next() {
                        guard let obj = try? JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: String], obj["event"] == "verified" else { continue }
                        verified.append(obj["name"]!)
                        if obj["name"] == before.members.last!.name {
                            kill(p.processIdentifier, SIGKILL)
                            break
                        }
                    }
                    p.waitUntilExit()
                    try? input.close()
                    c.resume(returning: verified)
                }.start()
            }
            #expect(p.terminationReason == .uncaughtSignal, "the import was killed, not finished")
            #expect(verifiedAtKill.count == m.blobs.dropLast().flatMap(\.members).count)
            #expect(CacheStore(root: b).readRef(FakeHub.Demo.model, revision: "main") == nil, "nothing published by the killed run")
            #expect(snapshotContents(b).isEmpty)

            let r = try await ok(["import", bundle, "--cache-dir", b])
            let skippedBytes = m.blobs.dropLast().reduce(Int64(0)) { $0 + $1.size }
            #expect(r.out.contains("skipped \(verifiedAtKill.count) entries (\(ByteSize.format(skippedBytes))) verified by an earlier run"), "\(r.out)")
            #expect(r.out.contains("1 entry verified"), "\(r.out)")
            #expect(snapshotContents(b) == snapshotContents(a))
            #expect(refsOf(b) == refsOf(a))
            // The journals are gone once the bundle is published.
            for repo in CacheStore(root: b).repos() {
                #expect(FS.listDirectory(CacheStore(root: b).stateDirectory(repo) + "/import").isEmpty)
            }
            try await ok(["verify", "--cache-dir", b])
        }
    }
}
