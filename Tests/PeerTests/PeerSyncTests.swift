import Foundation
import HubCore
import HubFakeHub
import HubHTTP
import HubPeer
import HubStore
import HubSync
import Testing

/// Mirrors fill themselves from each other: the upstream serves each byte once, nothing a peer sends
/// is published unless it hashes right, and a peer hands out nothing private without its token.
@Suite struct PeerSyncTests {
    static let repo = FakeHub.model("acme/fleet")
    static let size: Int64 = 3 << 20
    typealias Rule = FakeHub.FaultRule

    static func populate(_ hub: FakeHub) throws -> String {
        try hub.commit(repo, files: [
            "README.md": "# fleet\n",
            "a.bin": .pattern(seed: 31, size: size, lfs: true),
            "b.bin": .pattern(seed: 32, size: size, lfs: true),
            "config.json": .text("{\"x\": 1}\n", lfs: false),
        ])
    }

    static var repoBytes: Int64 { 2 * size + Int64("# fleet\n".utf8.count) + Int64("{\"x\": 1}\n".utf8.count) }

    func expectComplete(_ hub: FakeHub, _ cache: String, commit: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let store = CacheStore(root: cache)
        #expect(store.readRef(Self.repo, revision: "main") == commit, sourceLocation: sourceLocation)
        for (path, f) in hub.files(Self.repo, "main") {
            #expect(sha256(ofFile: store.snapshotDirectory(Self.repo, commit: commit) + "/" + path) == f.sha256, "\(path)", sourceLocation: sourceLocation)
        }
    }

    @Test func mirrorsFilledOneAfterAnotherPullEachByteFromUpstreamOnce() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            let a = Mirror(cache: tmp.path + "/a"), b = Mirror(cache: tmp.path + "/b"), c = Mirror(cache: tmp.path + "/c")
            _ = try await sync(Self.repo, hub: hub, into: a.cache)
            #expect(contentBytes(hub) == Self.repoBytes, "A fetched the repo once")
            try await a.serving { aURL in
                let rb = try await sync(Self.repo, hub: hub, into: b.cache, peers: [aURL])
                #expect(rb.bytesBySource?["peer \(Origin(url: aURL)!)"] == Self.repoBytes, "\(rb.bytesBySource ?? [:])")
                try await b.serving { bURL in
                    let rc = try await sync(Self.repo, hub: hub, into: c.cache, peers: [bURL, aURL])
                    let by = rc.bytesBySource ?? [:]
                    #expect(by.keys.allSatisfy { $0.hasPrefix("peer ") } && by.values.reduce(0, +) == Self.repoBytes, "C takes everything from the peers: \(by)")
                    #expect(rc.strikes == nil)
                }
            }
            #expect(contentBytes(hub) == Self.repoBytes, "the upstream served the repo's bytes once in all")
            for m in [a, b, c] { expectComplete(hub, m.cache, commit: commit) }
        }
    }

    @Test func aFlippedByteInAPeersBlobIsCaughtThePeerNamedAndTheFileComesFromUpstream() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            let a = Mirror(cache: tmp.path + "/a"), b = Mirror(cache: tmp.path + "/b")
            _ = try await sync(Self.repo, hub: hub, into: a.cache)
            let etag = try #require(hub.files(Self.repo, "main")["a.bin"]).sha256
            let blob = CacheStore(root: a.cache).blobPath(Self.repo, etag: etag)
            let fd = open(blob, O_WRONLY)
            var byte: UInt8 = 0x42
            #expect(pwrite(fd, &byte, 1, 1_500_000) == 1)
            close(fd)
            let before = contentBytes(hub)
            try await a.serving { aURL in
                let r = try await sync(Self.repo, hub: hub, into: b.cache, peers: [aURL])
                let strikes = r.strikes ?? []
                #expect(strikes.count == 1 && strikes.first?.source == "peer \(Origin(url: aURL)!)" && strikes.first?.label.hasSuffix("a.bin") == true, "\(strikes)")
            }
            #expect(contentBytes(hub) - before == Self.size, "only the damaged file came from upstream")
            expectComplete(hub, b.cache, commit: commit)
        }
    }

    @Test func anUnreachablePeerIsSkippedAndTheUpstreamServes() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            let r = try await sync(Self.repo, hub: hub, into: tmp.path + "/b", peers: ["http://127.0.0.1:1"])
            #expect(r.bytesBySource?.keys.allSatisfy { $0.hasPrefix("upstream") } == true)
            expectComplete(hub, tmp.path + "/b", commit: commit)
        }
    }

    @Test func aPrivateRepoOnAPeerIsNeitherListedNorServedWithoutItsToken() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            hub.createRepo(Self.repo, private: true)
            hub.validTokens = ["hub-token"]
            let commit = try Self.populate(hub)
            let a = Mirror(cache: tmp.path + "/a")
            _ = try await sync(Self.repo, hub: hub, into: a.cache, token: "hub-token")
            let etag = try #require(hub.files(Self.repo, "main")["a.bin"]).sha256
            try await a.serving(tokens: ["peer-token"]) { aURL in
                let anonymous = PeerClient(base: aURL, token: nil)
                #expect(try anonymous.catalog().repos.isEmpty, "not listed without a token")
                #expect(try anonymous.have([etag]).blobs.isEmpty, "not held, as far as an anonymous peer can tell")
                let wrong = PeerClient(base: aURL, token: "hub-token")
                #expect(try wrong.catalog().repos.isEmpty, "the upstream's token is no token of this peer")
                let allowed = PeerClient(base: aURL, token: "peer-token")
                let listed = try allowed.catalog().repos
                #expect(listed.map(\.id) == ["acme/fleet"] && listed.first?.private == true && listed.first?.branches["main"] == commit)
                #expect(try allowed.have([etag]).blobs[etag]?.whole == true)
                #expect(try allowed.manifest(Self.repo, commit: commit).entries.count == 4)

                // A mirror without the peer's token gets the bytes from upstream; with it, from the peer.
                let before = contentBytes(hub)
                _ = try await sync(Self.repo, hub: hub, into: tmp.path + "/b", peers: [aURL], token: "hub-token")
                #expect(contentBytes(hub) - before == Self.repoBytes)
                let r = try await sync(Self.repo, hub: hub, into: tmp.path + "/c", peers: [aURL], peerToken: "peer-token", token: "hub-token")
                #expect(r.bytesBySource?["peer \(Origin(url: aURL)!)"] == Self.repoBytes)
            }
        }
    }
}

/// A chain A → B → C where C has no upstream access: B is C's authority for refs and manifests.
@Suite struct AuthorityTests {
    @Test func aMirrorWithoutUpstreamAccessFillsFromItsAuthority() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try PeerSyncTests.populate(hub)
            try hub.tag(PeerSyncTests.repo, "v1", commit)
            let a = Mirror(cache: tmp.path + "/a"), b = Mirror(cache: tmp.path + "/b")
            _ = try await sync(PeerSyncTests.repo, hub: hub, into: a.cache)
            try await a.serving { aURL in
                _ = try await sync(PeerSyncTests.repo, hub: hub, into: b.cache, peers: [aURL])
                try await b.serving { bURL in
                    hub.clearLog()
                    // C's endpoint is a port nothing listens on: it must not be asked anything.
                    var request = SyncRequest(repo: PeerSyncTests.repo, endpoint: "http://127.0.0.1:1", location: .cache(tmp.path + "/c"), transfer: testTransfer())
                    request.authority = PeerEndpoint(url: bURL)
                    let r = try await syncRequest(request)
                    #expect(r.commit == commit)
                    #expect(r.bytesBySource?.keys.sorted() == ["peer \(Origin(url: bURL)!)"], "\(r.bytesBySource ?? [:])")
                    #expect(hub.requests.isEmpty, "the hub was asked nothing: \(hub.requests.map(\.path))")
                    // A revision the authority does not have is RevisionNotFound, from the authority.
                    request.revision = "no-such-branch"
                    let e = await #expect(throws: HubError.self) { _ = try await syncRequest(request) }
                    #expect(e?.kind == .revisionNotFound && e?.message.contains(bURL) == true)
                }
            }
            let store = CacheStore(root: tmp.path + "/c")
            #expect(store.readRef(PeerSyncTests.repo, revision: "main") == commit)
            for (path, f) in hub.files(PeerSyncTests.repo, "main") {
                #expect(sha256(ofFile: store.snapshotDirectory(PeerSyncTests.repo, commit: commit) + "/" + path) == f.sha256, "\(path)")
            }
        }
    }
}
