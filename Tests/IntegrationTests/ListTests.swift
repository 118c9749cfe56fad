import Foundation
import HubCore
import HubFakeHub
import HubMaintenance
import HubStore
import HubSync
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `hubmirror ls` reports what a sync left: refs with their kind, snapshots, blobs, partial downloads.
@Suite struct ListTests {
    static let repo = FakeHub.model("acme/listed")

    @Test("ls shows refs (tags as tags), snapshots against their manifests, blobs and last sync")
    func listing() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let c1 = try hub.commit(Self.repo, files: ["a.txt": "a\n", "w.bin": .pattern(seed: 1, size: 100_000, lfs: true)])
            try hub.tag(Self.repo, "v1", c1)
            let c2 = try hub.commit(Self.repo, files: ["b.txt": "b\n"])
            for rev in ["v1", "main"] {
                _ = try await runSync(SyncRequest(repo: Self.repo, revision: rev, filter: rev == "main" ? PathFilter(include: ["*.txt"]) : PathFilter(),
                                                  endpoint: hub.endpoint, location: .cache(tmp.path), transfer: testTransferOptions()))
            }
            try FS.writeAtomically(Array(repeating: 7, count: 8192), to: CacheStore(root: tmp.path).stateDirectory(Self.repo) + "/partial/" + String(repeating: "e", count: 64) + ".part")

            let (rc, out, err) = try await runHubmirror(["ls", "--cache-dir", tmp.path, "--json"])
            #expect(rc == 0, "\(err)")
            let repos = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
            let r = try #require(repos.first)
            #expect(r["repo"] as? String == "acme/listed")
            let refs = (r["refs"] as? [[String: Any]] ?? []).map { "\($0["kind"]!) \($0["name"]!) \($0["commit"]!)" }
            #expect(refs == ["branch main \(c2)", "tag v1 \(c1)"])
            let snaps = (r["snapshots"] as? [[String: Any]] ?? []).map { "\($0["commit"]!) \($0["files"]!)/\($0["manifestFiles"]!)" }
            #expect(Set(snaps) == ["\(c1) 2/2", "\(c2) 2/3"], "main was synced with --include '*.txt'")
            #expect(r["blobs"] as? Int == 3)
            #expect(r["lastSync"] as? Double != nil)
            #expect(r["partialFiles"] as? Int == 1)

            let (rcText, text, _) = try await runHubmirror(["status", "--cache-dir", tmp.path])
            #expect(rcText == 0)
            #expect(text.contains("models/acme/listed") && text.contains("tag v1 -> \(c1)") && text.contains("snapshot \(c2): 2 of 3 files"), "\(text)")
            let (rcMissing, _, _) = try await runHubmirror(["ls", "acme/absent", "--cache-dir", tmp.path])
            #expect(rcMissing == 10)
        }
    }

    @Test("partialBytes is what the resume journals record, not the preallocated size")
    func partialBytesAreJournaled() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            try hub.commit(Self.repo, files: ["a.txt": "a\n"])
            _ = try await runSync(SyncRequest(repo: Self.repo, endpoint: hub.endpoint, location: .cache(tmp.path), transfer: testTransferOptions()))
            let partial = CacheStore(root: tmp.path).stateDirectory(Self.repo) + "/partial/"
            // 20 MiB preallocated, two runs of 1 MiB and 2 MiB written: 3 MiB to resume.
            let etag = String(repeating: "e", count: 64)
            let size: Int64 = 20 << 20
            let fd = open(partial + etag + ".part", O_RDWR | O_CREAT, 0o644)
            #expect(fd >= 0 && posix_fallocate(fd, 0, off_t(size)) == 0)
            close(fd)
            try FS.writeAtomically(Array("hubmirror-journal 1 \(etag) \(size)\n0 1048576\n4194304 6291456\n".utf8), to: partial + etag + ".journal")
            // A partial file without a journal holds nothing a resume keeps.
            try FS.writeAtomically(Array(repeating: 7, count: 8192), to: partial + String(repeating: "f", count: 64) + ".part")

            let (rc, out, err) = try await runHubmirror(["ls", "--cache-dir", tmp.path, "--json"])
            #expect(rc == 0, "\(err)")
            let repos = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
            #expect(repos.first?["partialFiles"] as? Int == 2)
            #expect(repos.first?["partialBytes"] as? Int == 3 << 20, "\(out)")
            let (_, text, _) = try await runHubmirror(["ls", "--cache-dir", tmp.path])
            #expect(text.contains("2 partial download(s), 3.0 MiB"), "\(text)")
        }
    }
}
