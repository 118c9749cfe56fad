import Foundation
import HubCore
import HubFakeHub
import HubMaintenance
import HubStore
import HubSync
import Testing

/// A first sync that publishes nothing leaves no repo folder the official client would read as a
/// broken repo; `ls` and `verify` do not count a half repo as held, and `gc` removes one (issue #8).
@Suite struct FailedFirstSyncTests {
    typealias Rule = FakeHub.FaultRule

    func request(_ hub: FakeHub, _ cache: String, _ id: String) -> SyncRequest {
        SyncRequest(repo: FakeHub.model(id), endpoint: hub.endpoint, location: .cache(cache), transfer: testTransferOptions())
    }

    /// Top-level entries of the cache the official client's `scan_cache_dir()` reads (it skips these).
    func visibleEntries(_ cache: String) -> [String] {
        FS.listDirectory(cache).filter { $0 != ".locks" && $0 != "CACHEDIR.TAG" }
    }

    @Test("Repo not found (10) and unsafe remote names (32) leave no repo folder")
    func refusedBeforeTransfer() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            try hub.commit(FakeHub.model("acme/unsafe"), files: ["ok.txt": "ok\n", "../evil.txt": "evil\n"])
            let missing = await hubError { _ = try await runSync(request(hub, tmp.path, "acme/nope")) }
            #expect(missing?.kind == .repoNotFound)
            let unsafe = await hubError { _ = try await runSync(request(hub, tmp.path, "acme/unsafe")) }
            #expect(unsafe?.kind == .unsafePath)
            #expect(visibleEntries(tmp.path).isEmpty, "left: \(visibleEntries(tmp.path))")
        }
    }

    @Test("A transfer failing with nothing written removes the folder it created; one that kept verified data keeps a consistent one")
    func failedTransfer() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let store = CacheStore(root: tmp.path)
            let denied = FakeHub.model("acme/denied")
            try hub.commit(denied, files: ["a.bin": .pattern(seed: 1, size: 200_000, lfs: true)])
            _ = hub.addFault(Rule(.any, match: .file("a.bin"), repo: denied, method: .get, times: 1000, action: .status(404)))
            let deniedRequest = request(hub, tmp.path, "acme/denied")
            let refused = await hubError { _ = try await runSync(deniedRequest) }
            #expect(refused != nil)
            #expect(!FS.exists(store.repoDirectory(denied)), "nothing to resume: the folder goes")

            let cut = FakeHub.model("acme/cut")
            try hub.commit(cut, files: ["ok.txt": "ok\n", "bad.bin": .pattern(seed: 2, size: 200_000, lfs: true)])
            _ = hub.addFault(Rule(.any, match: .file("bad.bin"), repo: cut, method: .get, times: 1000, action: .status(404)))
            let cutRequest = request(hub, tmp.path, "acme/cut")
            let e = await hubError { _ = try await runSync(cutRequest) }
            #expect(e != nil)
            #expect(FS.listDirectory(store.repoDirectory(cut) + "/blobs").count == 1, "the verified file is kept for the next run")
            #expect(FS.isDirectory(store.repoDirectory(cut) + "/snapshots"), "the kept folder reads as a repo with no revision, not a broken one")
        }
    }

    @Test("ls and verify of a half repo exit 10 naming it; gc --grace 0 removes it")
    func halfRepoCommands() async throws {
        let tmp = TempDir()
        let store = CacheStore(root: tmp.path)
        let half = FakeHub.model("acme/nope")
        // What an older version left after a failed first sync.
        try FS.writeAtomically(Array("123\n".utf8), to: store.stateDirectory(half) + "/lock")
        for command in ["ls", "verify"] {
            let (code, out, err) = try await runHubmirror([command, "acme/nope", "--cache-dir", tmp.path])
            #expect(code == 10, "\(command) exited \(code): \(out) \(err)")
            #expect(err.contains("acme/nope"), "\(command) names the repo: \(err)")
        }
        let (kept, _, _) = try await runHubmirror(["gc", "--cache-dir", tmp.path])
        #expect(kept == 0)
        #expect(FS.exists(store.repoDirectory(half)), "within the grace time it stays")
        let (code, out, err) = try await runHubmirror(["gc", "--grace", "0", "--cache-dir", tmp.path])
        #expect(code == 0, "\(out) \(err)")
        #expect(out.contains("acme/nope"), "\(out)")
        #expect(!FS.exists(store.repoDirectory(half)))
    }
}
