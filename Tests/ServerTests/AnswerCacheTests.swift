import Foundation
import HubCore
@testable import HubServer
import HubStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A kept answer is given only while the store facts it was built from hold: after each kind of
/// change a sync, gc, verify or an operator makes, a server that has answered everything before
/// answers exactly like a fresh one, byte for byte (issue #13).
@Suite("Kept answers follow the store", .timeLimit(.minutes(3)))
struct AnswerCacheTests {
    static let tiny = Fixture.tiny
    /// Files first: a server notices a blob gone from under a listed file when that file is asked for
    /// (then the commit's listing is rebuilt without it), as it did before answers were kept.
    static let calls: [WarmAnswersTests.Call] = {
        var c: [WarmAnswersTests.Call] = []
        for method in ["GET", "HEAD"] {
            c += [
                .init(method: method, path: "/acme/tiny/resolve/main/config.json"),
                .init(method: method, path: "/acme/tiny/resolve/main/README.md"),
                .init(method: method, path: "/acme/tiny/resolve/main/model.bin"),
                .init(method: method, path: "/acme/tiny/resolve/main/extra/not-synced.bin"),
                .init(method: method, path: "/acme/tiny/resolve/\(Fixture.main)/config.json"),
                .init(method: method, path: "/acme/tiny/resolve/main/config.json", headers: [WarmAnswersTests.token]),
            ]
        }
        for method in ["GET", "HEAD"] {
            c += [
                .init(method: method, path: "/api/models/acme/tiny/revision/main"),
                .init(method: method, path: "/api/models/acme/tiny/revision/main?blobs=true"),
                .init(method: method, path: "/api/models/acme/tiny/tree/main?recursive=true"),
                .init(method: method, path: "/api/models/acme/tiny/tree/main/extra"),
            ]
        }
        c.append(.init(path: "/acme/tiny/resolve/main/model.bin", headers: ["Range: bytes=100-199"]))
        return c
    }()

    /// Changes to the store, each made the way the tool that makes it does.
    static let changes: [(String, @Sendable (TestCache) throws -> Void)] = [
        ("a filtered snapshot completed by a later sync (links, manifest)", { cache in
            let full = Manifest(repo: tiny, commit: Fixture.main, entries: Fixture.files.map(\.entry))
            try cache.store.target(tiny).publish(plan: Differ.plan(local: nil, remote: full, haveContent: { _ in true }),
                                                 target: full, full: full, revision: "main")
        }),
        ("main moved to another commit", { cache in
            try cache.store.writeRef(tiny, revision: "main", commit: Fixture.feature)
        }),
        ("the repo marked private upstream (repo-info.json)", { cache in
            try cache.setInfo(RepoInfo(repo: tiny, isPrivate: true))
        }),
        ("the repo public again and main back", { cache in
            try cache.setInfo(RepoInfo(repo: tiny, isPrivate: false))
            try cache.store.writeRef(tiny, revision: "main", commit: Fixture.main)
        }),
        ("a blob removed (verify quarantine, gc)", { cache in
            let e = Fixture.files.first { $0.path == "config.json" }!.entry
            guard unlink(cache.store.blobPath(tiny, etag: e.etag)) == 0 else { throw HubError(.store, "unlink failed") }
        }),
        ("the snapshot main names removed", { cache in
            try FileManager.default.removeItem(atPath: cache.store.snapshotDirectory(tiny, commit: Fixture.main))
        }),
    ]

    @Test("after every change a warm server answers like a fresh one")
    func warmFollowsChanges() async throws { try await followChanges(watch: true) }

    @Test("the same with the store watch switched off (HUBMIRROR_SERVE_WATCH=0): facts checked on every request")
    func warmFollowsChangesWithoutWatch() async throws { try await followChanges(watch: false) }

    func followChanges(watch: Bool) async throws {
        let cache = try Fixture.standard()
        try await withServer(cache, configure: { $0.watchStore = watch }) { warm in
            var statuses = Set<Int>()
            for (what, change) in Self.changes {
                for a in try await WarmAnswersTests.afterChange(warm, cache, Self.calls, { try change(cache) }) {
                    #expect(a.warm == a.fresh, "after \(what): \(a.call)")
                    statuses.insert(Int(a.warm.prefix(3)) ?? 0)
                }
            }
            // The changes must have changed answers: files appear and vanish, the repo hides and returns.
            #expect(statuses.isSuperset(of: [200, 206, 401, 404]), "\(statuses.sorted())")
        }
    }

    @Test("facts: one stat per path where a stamp says what a folder check says; nothing kept once not reusable")
    func facts() throws {
        let cache = try Fixture.standard()
        let snap = cache.store.snapshotDirectory(Self.tiny, commit: Fixture.main)
        let stamp = PosixFS.stamp(snap)
        let seen = StoreFacts()
        let index = StoreIndex(store: cache.store)
        seen.note(.isDirectory(path: snap, true))
        seen.note(.stamp(path: snap, stamp))
        seen.note(.stamp(path: snap, stamp))
        #expect(seen.checks == [.stamp(path: snap, stamp)])
        #expect(seen.checks.allSatisfy { $0.holds(in: index) })
        let ref = cache.store.repoDirectory(Self.tiny) + "/refs/main"
        #expect(StoreFact.ref(path: ref, commit: Fixture.main).holds(in: index))
        try cache.store.writeRef(Self.tiny, revision: "main", commit: Fixture.feature)
        #expect(!StoreFact.ref(path: ref, commit: Fixture.main).holds(in: index))
        seen.notReusable()
        seen.note(.isDirectory(path: snap, true))
        #expect(!seen.reusable && seen.checks.isEmpty)
    }
}
