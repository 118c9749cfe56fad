import Foundation
import HubCore
import HubFakeHub
import HubMaintenance
import HubStore
import HubSync
import Testing

/// `gc` removes only what nothing kept needs, and nothing while a sync holds the repo.
@Suite struct GCTests {
    static let repo = FakeHub.model("acme/collected")

    /// main@c1 synced, then main moved to c2 (new a.bin, same s.bin) and synced: c1's snapshot is unnamed.
    static func twoCommits(_ hub: FakeHub, _ cache: String) async throws -> (c1: String, c2: String) {
        let c1 = try hub.commit(repo, files: ["a.bin": .pattern(seed: 1, size: 300_000, lfs: true), "s.bin": .pattern(seed: 2, size: 200_000, lfs: true)])
        let request = SyncRequest(repo: repo, endpoint: hub.endpoint, location: .cache(cache), transfer: testTransferOptions())
        _ = try await runSync(request)
        let c2 = try hub.commit(repo, files: ["a.bin": .pattern(seed: 3, size: 300_000, lfs: true)])
        _ = try await runSync(request)
        return (c1, c2)
    }

    func etag(_ store: CacheStore, _ commit: String, _ path: String) throws -> String {
        try #require(store.loadManifest(Self.repo, commit: commit)?.entries.first { $0.path == path }?.etag)
    }

    @Test("By default only leftovers go; snapshots and every blob they use stay")
    func leftoversOnly() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let (c1, c2) = try await Self.twoCommits(hub, tmp.path)
            let store = CacheStore(root: tmp.path)
            let state = store.stateDirectory(Self.repo)
            try FS.writeAtomically([1, 2, 3], to: state + "/partial/" + String(repeating: "ab", count: 32) + ".part")
            try FS.mkdirs(state + "/staging/\(c2).123")
            try FS.writeAtomically([4], to: state + "/quarantine/" + String(repeating: "cd", count: 32) + ".1")

            let young = try GarbageCollector(store: store).collect()
            #expect(young.repos.first?.leftovers.isEmpty == true, "within the grace period nothing goes")

            let report = try GarbageCollector(store: store, grace: 0).collect()
            let r = try #require(report.repos.first)
            #expect(r.snapshots.isEmpty && r.blobs.isEmpty)
            #expect(r.leftovers.count == 3, "\(r.leftovers)")
            #expect(FS.listDirectory(state + "/partial").isEmpty && FS.listDirectory(state + "/staging").isEmpty)
            #expect(FS.isDirectory(store.snapshotDirectory(Self.repo, commit: c1)) && FS.isDirectory(store.snapshotDirectory(Self.repo, commit: c2)))
            #expect(try StoreVerifier(store: store).verify().isHealthy)
        }
    }

    @Test("An unnamed snapshot beyond the limit goes with the blobs only it used; a dry run changes nothing")
    func unnamedSnapshots() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let (c1, c2) = try await Self.twoCommits(hub, tmp.path)
            let store = CacheStore(root: tmp.path)
            let oldA = try etag(store, c1, "a.bin"), shared = try etag(store, c1, "s.bin"), newA = try etag(store, c2, "a.bin")

            let dry = try GarbageCollector(store: store, keepUnreferenced: 0, grace: 0, dryRun: true).collect()
            #expect(dry.repos.first?.snapshots == [c1])
            #expect(dry.repos.first?.blobs == [oldA])
            #expect(dry.bytes >= 300_000)
            #expect(FS.isDirectory(store.snapshotDirectory(Self.repo, commit: c1)) && FS.exists(store.blobPath(Self.repo, etag: oldA)))

            let kept = try GarbageCollector(store: store, keepUnreferenced: 1, grace: 0).collect()
            #expect(kept.repos.first?.snapshots.isEmpty == true, "one unnamed snapshot may stay")

            _ = try GarbageCollector(store: store, keepUnreferenced: 0, grace: 0).collect()
            #expect(!FS.exists(store.snapshotDirectory(Self.repo, commit: c1)))
            #expect(store.loadManifest(Self.repo, commit: c1) == nil)
            #expect(!FS.exists(store.blobPath(Self.repo, etag: oldA)))
            #expect(FS.exists(store.blobPath(Self.repo, etag: shared)) && FS.exists(store.blobPath(Self.repo, etag: newA)))
            #expect(store.readRef(Self.repo, revision: "main") == c2)
            try expectSnapshotMatches(hub, Self.repo, commit: c2, cache: tmp.path)
            #expect(try StoreVerifier(store: store).verify().isHealthy)
        }
    }

    @Test("A repo whose lock is held is skipped, untouched")
    func lockedRepoIsSkipped() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let (c1, _) = try await Self.twoCommits(hub, tmp.path)
            let store = CacheStore(root: tmp.path)
            let lock = try store.target(Self.repo).lock()
            defer { lock.unlock() }
            let report = try GarbageCollector(store: store, keepUnreferenced: 0, grace: 0).collect()
            #expect(report.repos.first?.skipped?.contains("locked") == true)
            #expect(FS.isDirectory(store.snapshotDirectory(Self.repo, commit: c1)))
        }
    }
}
