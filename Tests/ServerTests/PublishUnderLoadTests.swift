import Foundation
import HubCore
import HubServer
import HubStore
import Testing

/// A revision published while clients hammer the server shows up atomically: every answer is wholly
/// the old commit or wholly the new one, never a mix, never an error (issue #13).
@Suite("Publication under load", .timeLimit(.minutes(3)))
struct PublishUnderLoadTests {
    static let repo = Fixture.tiny
    static let old = Fixture.main
    static let new = Fixture.feature
    static let oldFiles = [FixtureFile("config.json", #"{"variant": "old"}"#), FixtureFile("README.md", "# old\n")]
    static let newFiles = [FixtureFile("config.json", #"{"variant": "new", "more": true}"#), FixtureFile("README.md", "# new\n"),
                           FixtureFile("added.txt", "only in the new commit\n")]

    /// What a client saw, classified.
    enum Seen: Equatable { case old, new, wrong(String) }

    static func check(info r: HTTPResult) -> Seen {
        guard r.status == 200, let sha = r.object["sha"] as? String,
              let siblings = r.object["siblings"] as? [[String: Any]] else { return .wrong("revision info: \(r)") }
        let names = Set(siblings.compactMap { $0["rfilename"] as? String })
        if sha == old && names == Set(oldFiles.map(\.path)) { return .old }
        if sha == new && names == Set(newFiles.map(\.path)) { return .new }
        return .wrong("revision info of \(sha) lists \(names.sorted())")
    }

    static func check(file r: HTTPResult) -> Seen {
        guard r.status == 200, let sha = r.header("X-Repo-Commit") else { return .wrong("resolve: \(r)") }
        for (commit, files, seen) in [(old, oldFiles, Seen.old), (new, newFiles, Seen.new)] where sha == commit {
            let f = files.first { $0.path == "config.json" }!
            if r.body == f.content && r.header("ETag") == "\"\(f.entry.etag)\"" && r.header("Content-Length") == String(f.content.count) {
                return seen
            }
        }
        return .wrong("config.json answered for \(sha): \(r)")
    }

    @Test("revision info and resolve while main moves between two commits: each answer wholly one of them")
    func atomicUnderLoad() async throws {
        let cache = try TestCache()
        try cache.add(Self.repo, commit: Self.old, files: Self.oldFiles, refs: ["main"])
        try cache.add(Self.repo, commit: Self.new, files: Self.newFiles)
        let target = cache.store.target(Self.repo)
        let manifests = [Self.new, Self.old].map { c in cache.store.loadManifest(Self.repo, commit: c)! }
        // Per kind of request: [revision info, file] answers of the old and of the new commit.
        let counts = Locked<(old: [Int], new: [Int], wrong: [String])>(([0, 0], [0, 0], []))
        let done = Locked(false)

        try await withServer(cache) { s in
            let info = s.url + "/api/models/\(Self.repo.id)/revision/main"
            let file = s.url + "/\(Self.repo.id)/resolve/main/config.json"
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<4 {
                    group.addTask {
                        var k = client
                        while !done.withLock({ $0 }) {
                            k += 1
                            let kind = k % 2
                            let seen = kind == 0 ? Self.check(info: try await http(info)) : Self.check(file: try await http(file))
                            counts.withLock { c in
                                switch seen {
                                case .old: c.old[kind] += 1
                                case .new: c.new[kind] += 1
                                case .wrong(let why): c.wrong.append(why)
                                }
                            }
                        }
                    }
                }
                group.addTask {
                    // The way a sync publishes (links, manifest, then the ref), alternating the two commits,
                    // until both kinds of request have seen each several times (bounded, so a broken server fails, not hangs).
                    defer { done.withLock { $0 = true } }
                    for round in 0..<2000 {
                        let m = manifests[round % 2]
                        try target.publish(plan: Differ.plan(local: nil, remote: m, haveContent: { _ in true }),
                                           target: m, full: m, revision: "main")
                        let c = counts.withLock { $0 }
                        if c.old.min()! >= 10 && c.new.min()! >= 10 && round >= 20 { return }
                        await Task.yield()
                    }
                }
                try await group.waitForAll()
            }
        }
        let c = counts.withLock { $0 }
        #expect(c.wrong.isEmpty, "\(c.wrong.count) stale, mixed or failed answers, e.g. \(c.wrong.prefix(3))")
        // Each kind of request must have seen both commits: a server stuck on one answer fails here.
        #expect(c.old.min()! >= 10 && c.new.min()! >= 10, "both commits must have been answered to both kinds: old \(c.old), new \(c.new)")
    }
}
