import Foundation
import HubCore
import HubFakeHub
import HubHTTP
import HubOperations
import HubPeer
import HubStore
import HubSync
import Testing

/// `replicate`: a mirror copies what a peer serves, every ref, verified; a rerun moves nothing; moved
/// refs move, gone refs stay unless --delete; chains and meshes work; nothing private without the token.
@Suite struct ReplicateTests {
    static let repo = FakeHub.model("acme/fleet")
    static let other = FakeHub.dataset("other/data")

    /// The hub's refs of `repo`: main, tag v1, refs/pr/1 and feature/x, over three commits.
    struct Refs { var c1, c2, pr, feature: String }

    static func populate(_ hub: FakeHub) throws -> Refs {
        let c1 = try hub.commit(repo, files: [
            "README.md": "# fleet\n",
            "a.bin": .pattern(seed: 41, size: 1_500_000, lfs: true),
            "config.json": .text("{\"x\": 1}\n", lfs: false),
        ])
        try hub.tag(repo, "v1", c1)
        let c2 = try hub.commit(repo, files: ["b.bin": .pattern(seed: 42, size: 700_000, lfs: true), "README.md": "# fleet v2\n"])
        let pr = try hub.commit(repo, parent: c2, files: ["pr.txt": "a pull request\n"], message: "PR")
        try hub.setRef(repo, "refs/pr/1", pr)
        let feature = try hub.commit(repo, parent: c2, files: ["config.json": .text("{\"x\": 2}\n", lfs: false)], message: "feature")
        try hub.setBranch(repo, "feature/x", feature)
        return Refs(c1: c1, c2: c2, pr: pr, feature: feature)
    }

    /// Mirror A: every ref of `repo` synced from the hub.
    static func fillA(_ hub: FakeHub, _ cache: String, token: String? = nil, repo: RepoRef = repo, refs: [String] = ["main", "v1", "refs/pr/1", "feature/x"]) async throws {
        for ref in refs {
            var r = SyncRequest(repo: repo, revision: ref, endpoint: hub.endpoint, token: token, location: .cache(cache), transfer: testTransfer())
            r.peers = []
            _ = try await syncRequest(r)
        }
    }

    /// Every file of every snapshot `refs` name in `b` is byte-identical to `a`'s.
    func expectSameSnapshots(_ a: String, _ b: String, repo: RepoRef = repo, sourceLocation: SourceLocation = #_sourceLocation) {
        let sa = CacheStore(root: a), sb = CacheStore(root: b)
        let refs = sa.refs(repo)
        #expect(sb.refs(repo) == refs, sourceLocation: sourceLocation)
        for commit in Set(refs.values) {
            guard let m = sa.loadManifest(repo, commit: commit) else { Issue.record("no manifest of \(commit) in A", sourceLocation: sourceLocation); continue }
            #expect(sb.loadManifest(repo, commit: commit)?.entries.map(\.etag).sorted() == m.entries.map(\.etag).sorted(), sourceLocation: sourceLocation)
            for e in m.entries {
                let pa = sa.snapshotDirectory(repo, commit: commit) + "/" + e.path, pb = sb.snapshotDirectory(repo, commit: commit) + "/" + e.path
                #expect(sha256(ofFile: pb) != nil && sha256(ofFile: pb) == sha256(ofFile: pa), "\(commit.prefix(8))/\(e.path)", sourceLocation: sourceLocation)
            }
        }
    }

    func actions(_ r: ReplicationReport.Repo) -> [String: String] {
        Dictionary(uniqueKeysWithValues: r.refs.map { ($0.ref, $0.action) })
    }

    @Test func anEmptyStoreGetsEveryRefAndARerunMovesNothing() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let refs = try Self.populate(hub)
            let a = Mirror(cache: tmp.path + "/a"), b = tmp.path + "/b"
            try await Self.fillA(hub, a.cache)
            hub.clearLog()
            try await a.serving { aURL in
                let report = try await replicate(from: aURL, into: b)
                let r = try #require(report.repos.first)
                #expect(report.repos.count == 1 && r.id == "acme/fleet" && r.status == "ok" && report.exitCode == 0)
                #expect(actions(r) == ["main": "add", "v1": "add", "refs/pr/1": "add", "feature/x": "add"])
                #expect(Dictionary(uniqueKeysWithValues: r.refs.map { ($0.ref, $0.kind) }) == ["main": "branch", "v1": "tag", "refs/pr/1": "pr", "feature/x": "branch"])
                #expect(!report.upToDate && r.bytesReceived > 0)
                #expect(r.bytesBySource == ["peer \(Origin(url: aURL)!)": r.bytesReceived], "every byte from A, counted per source")
                #expect(r.strikes == nil)
                let metrics = try await peerMetrics(aURL, servedAtLeast: r.bytesReceived)
                #expect(metrics.bytes == r.bytesReceived, "/metrics counts the bytes served to peers under route peer_blob")
                #expect(metrics.requests > 0)

                // The second run asks A for nothing but its catalog.
                let again = try await replicate(from: aURL, into: b)
                #expect(again.upToDate && again.exitCode == 0 && again.bytesReceived == 0)
                #expect(again.repos.first.map(actions) == ["main": "unchanged", "v1": "unchanged", "refs/pr/1": "unchanged", "feature/x": "unchanged"])
                #expect(try await peerMetrics(aURL).requests == metrics.requests, "no blob request the second time")
            }
            #expect(hub.requests.isEmpty, "the hub was asked nothing: \(hub.requests.map(\.path))")
            expectSameSnapshots(a.cache, b)
            let info = try #require(CacheStore(root: b).loadRepoInfo(Self.repo))
            #expect(info.tags == ["v1"] && !info.isPrivate && !info.isGated)
            #expect(CacheStore(root: b).refs(Self.repo) == ["main": refs.c2, "v1": refs.c1, "refs/pr/1": refs.pr, "feature/x": refs.feature])
        }
    }

    @Test func aRefMovedOnThePeerMovesAndAGoneRefIsKeptUnlessDelete() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let refs = try Self.populate(hub)
            let a = Mirror(cache: tmp.path + "/a"), b = Mirror(cache: tmp.path + "/b")
            try await Self.fillA(hub, a.cache)
            try await a.serving { aURL in
                _ = try await replicate(from: aURL, into: b.cache)
                // On A: main moves on, feature/x goes.
                let c3 = try hub.commit(Self.repo, files: ["c.bin": .pattern(seed: 43, size: 300_000, lfs: true)])
                try await Self.fillA(hub, a.cache, refs: ["main"])
                let store = CacheStore(root: a.cache)
                #expect(unlink(store.refPath(Self.repo, revision: "feature/x")) == 0)

                let moved = try await replicate(from: aURL, into: b.cache)
                let r = try #require(moved.repos.first)
                #expect(actions(r) == ["main": "move", "v1": "unchanged", "refs/pr/1": "unchanged", "feature/x": "kept"])
                let main = r.refs.first { $0.ref == "main" }
                #expect(main?.from == refs.c2 && main?.to == c3)
                #expect(r.bytesReceived == 300_000, "only the new file moved: \(r.bytesReceived)")
                #expect(CacheStore(root: b.cache).readRef(Self.repo, revision: "main") == c3)
                #expect(CacheStore(root: b.cache).readRef(Self.repo, revision: "feature/x") == refs.feature, "kept without --delete")
                #expect(moved.exitCode == 0 && !moved.upToDate)

                let deleted = try await replicate(from: aURL, into: b.cache, delete: true)
                #expect(deleted.repos.first.map(actions) == ["main": "unchanged", "v1": "unchanged", "refs/pr/1": "unchanged", "feature/x": "delete"])
                #expect(CacheStore(root: b.cache).readRef(Self.repo, revision: "feature/x") == nil)
                #expect(!FS.exists(CacheStore(root: b.cache).refPath(Self.repo, revision: "feature")), "its empty folder went too")
                #expect(FS.isDirectory(CacheStore(root: b.cache).snapshotDirectory(Self.repo, commit: refs.feature)), "the snapshot waits for gc")
                expectSameSnapshots(a.cache, b.cache)

                // A mesh: A replicating from B, now equal, is a no-op.
                try await b.serving { bURL in
                    let back = try await replicate(from: bURL, into: a.cache, delete: true)
                    #expect(back.upToDate && back.bytesReceived == 0, "\(back.repos.map(actions))")
                }
            }
        }
    }

    @Test func aChainABCWhereCNeverTalksToAOrTheHub() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            _ = try Self.populate(hub)
            let a = Mirror(cache: tmp.path + "/a"), b = Mirror(cache: tmp.path + "/b"), c = tmp.path + "/c"
            try await Self.fillA(hub, a.cache)
            try await a.serving { aURL in
                _ = try await replicate(from: aURL, into: b.cache)
                let aBefore = try await peerMetrics(aURL)
                hub.clearLog()
                try await b.serving { bURL in
                    let report = try await replicate(from: bURL, into: c)
                    let r = try #require(report.repos.first)
                    #expect(r.status == "ok" && r.refs.count == 4)
                    #expect(r.bytesBySource.map { Array($0.keys) } == ["peer \(Origin(url: bURL)!)"])
                }
                let aAfter = try await peerMetrics(aURL)
                #expect(aAfter.requests == aBefore.requests && aAfter.catalogRequests == aBefore.catalogRequests, "C asked A nothing")
            }
            #expect(hub.requests.isEmpty, "the hub was asked nothing")
            expectSameSnapshots(a.cache, c)
            #expect(CacheStore(root: c).loadRepoInfo(Self.repo)?.tags == ["v1"], "tags survive two hops")
        }
    }

    @Test func aPrivateRepoIsNotReplicatedWithoutThePeerToken() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            hub.createRepo(Self.repo, private: true)
            hub.validTokens = ["hub-token"]
            _ = try Self.populate(hub)
            try hub.commit(Self.other, files: ["data.csv": "a,b\n1,2\n"])
            let a = Mirror(cache: tmp.path + "/a"), b = Mirror(cache: tmp.path + "/b")
            try await Self.fillA(hub, a.cache, token: "hub-token", refs: ["main"])
            try await Self.fillA(hub, a.cache, repo: Self.other, refs: ["main"])
            try await a.serving(tokens: ["peer-token"]) { aURL in
                let anonymous = try await replicate(from: aURL, into: b.cache)
                #expect(anonymous.repos.map(\.id) == ["other/data"] && anonymous.exitCode == 0)
                #expect(!FS.exists(CacheStore(root: b.cache).repoDirectory(Self.repo)), "nothing of the private repo was written")
                // Named explicitly, it is not found rather than silently skipped.
                let e = await #expect(throws: HubError.self) { _ = try await replicate(from: aURL, into: b.cache, globs: ["acme/*"]) }
                #expect(e?.kind == .repoNotFound && e?.message.contains("acme/*") == true)

                let granted = try await replicate(from: aURL, into: b.cache, token: "peer-token")
                #expect(granted.repos.map(\.id) == ["other/data", "acme/fleet"], "sorted by type, then id")
                #expect(granted.repos.map(\.status) == ["ok", "ok"] && granted.repos.last?.isPrivate == true)
            }
            #expect(CacheStore(root: b.cache).loadRepoInfo(Self.repo)?.isPrivate == true, "B keeps it private")
            try await b.serving { bURL in
                let listed = try PeerClient(base: bURL, token: nil).catalog().repos.map(\.id)
                #expect(listed == ["other/data"], "and B does not list it to anyone")
            }
        }
    }

    @Test func repoGlobsSelectAndABadRepoDoesNotStopTheOthers() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            _ = try Self.populate(hub)
            try hub.commit(Self.other, files: ["data.bin": .pattern(seed: 44, size: 200_000, lfs: true)])
            let a = Mirror(cache: tmp.path + "/a")
            try await Self.fillA(hub, a.cache, refs: ["main", "v1"])
            try await Self.fillA(hub, a.cache, repo: Self.other, refs: ["main"])
            try await a.serving { aURL in
                let selected = try await replicate(from: aURL, into: tmp.path + "/b", globs: ["acme/*", "nobody/*"])
                #expect(selected.repos.map(\.id) == ["acme/fleet"] && selected.unmatched == ["nobody/*"])
                let typed = try await replicate(from: aURL, into: tmp.path + "/t", type: .dataset)
                #expect(typed.repos.map(\.id) == ["other/data"])

                // A flipped byte in A's copy of other/data: that repo fails, named with its strike; acme/fleet still comes.
                let etag = try #require(hub.files(Self.other, "main")["data.bin"]).sha256
                let fd = open(CacheStore(root: a.cache).blobPath(Self.other, etag: etag), O_WRONLY)
                var byte: UInt8 = 0x42
                #expect(pwrite(fd, &byte, 1, 1000) == 1)
                close(fd)
                let report = try await replicate(from: aURL, into: tmp.path + "/c")
                #expect(report.repos.map(\.id) == ["other/data", "acme/fleet"])
                #expect(report.repos.map(\.status) == ["failed", "ok"] && report.exitCode == HubError.Kind.partial.exitCode)
                let bad = try #require(report.repos.first)
                #expect(bad.exitCode == HubError.Kind.verification.exitCode, "\(bad.error ?? "")")
                // A sync that fails throws: its error names the file and the source whose bytes failed.
                #expect(bad.error?.contains("data.bin") == true && bad.error?.contains("127.0.0.1") == true, "\(bad.error ?? "")")
                #expect(bad.refs.map(\.status) == ["failed"] && bad.refs.first?.errorKind == "verification")
                #expect(CacheStore(root: tmp.path + "/c").readRef(Self.other, revision: "main") == nil, "nothing corrupt published")
            }
        }
    }
}

/// Runs a replication on its own thread.
func replicate(from url: String, into cache: String, globs: [String] = [], type: RepoType? = nil, delete: Bool = false,
               token: String? = nil) async throws -> ReplicationReport {
    let replicator = Replicator(from: PeerEndpoint(url: url, token: token), cacheDir: cache,
                                selection: ReplicationSelection(globs: globs, type: type), delete: delete, transfer: testTransfer())
    return try await withCheckedThrowingContinuation { (c: CheckedContinuation<ReplicationReport, any Error>) in
        let t = Thread {
            do { c.resume(returning: try replicator.run()) } catch { c.resume(throwing: error) }
        }
        t.stackSize = 4 << 20
        t.start()
    }
}

/// A peer's `/metrics`: requests to the blob route (counted before the answer goes out), catalog
/// requests, and body bytes served under `peer_blob` (counted once a body is written, so a caller
/// that knows how many it received may ask again until they are all counted).
func peerMetrics(_ url: String, servedAtLeast: Int64 = 0) async throws -> (requests: Int, catalogRequests: Int, bytes: Int64) {
    var last = (0, 0, Int64(0))
    for _ in 0..<100 {
        let body = try await withCheckedThrowingContinuation { (c: CheckedContinuation<String, any Error>) in
            Thread {
                do {
                    let resp = try HTTPClient(credentials: Credentials(token: nil, endpoint: url)).send(HTTPRequest(url: url + "/metrics"))
                    c.resume(returning: String(decoding: resp.body, as: UTF8.self))
                } catch { c.resume(throwing: error) }
            }.start()
        }
        var requests = 0, catalog = 0
        var bytes: Int64 = 0
        for line in body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            if line.hasPrefix("hubmirror_http_requests_total{") && line.contains("route=\"peer_blob\"") { requests += Int(value) }
            if line.hasPrefix("hubmirror_http_requests_total{") && line.contains("route=\"peer\"") { catalog += Int(value) }
            if line.hasPrefix("hubmirror_http_response_body_bytes_total{") && line.contains("route=\"peer_blob\"") { bytes += Int64(value) }
        }
        last = (requests, catalog, bytes)
        if bytes >= servedAtLeast { break }
    }
    return last
}
