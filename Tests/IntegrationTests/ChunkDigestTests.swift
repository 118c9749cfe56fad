import Foundation
import HubCore
import HubDigest
import HubFakeHub
import HubMaintenance
import HubStore
import HubSync
import HubTransfer
import Logging
import Testing

/// Per-chunk digests end to end: a chunk that fails its digest is fetched again alone, and `verify`
/// fills the digests into manifests that lack them.
@Suite struct ChunkDigestTests {
    static let repo = FakeHub.model("acme/chunks")
    static let size: Int64 = 4 << 20
    static let chunk: Int64 = 1 << 20
    typealias Rule = FakeHub.FaultRule

    static func digests(_ bytes: [UInt8], chunk: Int64) -> ChunkDigests {
        var list: [String] = []
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + Int(chunk))
            list.append(Digest.hex(.sha256, of: bytes[i..<end]))
            i = end
        }
        return ChunkDigests(chunkSize: chunk, sha256: list)
    }

    @Test func aCorruptChunkIsFetchedAgainAloneWhenTheJobCarriesChunkDigests() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try hub.commit(Self.repo, files: ["big.bin": .pattern(seed: 21, size: Self.size, lfs: true)])
            let stored = try #require(hub.files(Self.repo, "main")["big.bin"])
            var entry = try #require(hub.manifest(Self.repo)?.entry(at: "big.bin"))
            entry.chunks = Self.digests(try stored.content.bytes(in: 0..<Self.size), chunk: Self.chunk)
            // One corrupted byte in the third chunk, once.
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), range: .startingAt(2 * Self.chunk), times: 1, action: .corruptByte(offset: 2 * Self.chunk + 77)))
            let target = CacheStore(root: tmp.path).target(Self.repo)
            var options = testTransferOptions { $0.chunkSize = Self.chunk }
            options.connections = 4
            let events = EventLog()
            let fetcher = ContentFetcher(options: options, logger: Logger(label: "test"))
            let request = FetchRequest.hub(repo: Self.repo, commit: commit, entries: [entry], endpoint: hub.endpoint, token: nil)
            let report = try await onThread { fetcher.fetch(request, into: target) { events.add($0) } }
            #expect(report.failures.isEmpty, "\(report.failures.map(\.error.message))")
            #expect(report.fetched.count == 1)
            #expect(events.corruptions == 1)
            #expect(report.bytesReceived == Self.size + Self.chunk, "only the bad chunk came twice: \(report.bytesReceived)")
            #expect(sha256(ofFile: CacheStore(root: tmp.path).blobPath(Self.repo, etag: stored.sha256)) == stored.sha256)
        }
    }

    @Test func verifyFillsChunkDigestsIntoManifestsThatLackThem() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let size = ChunkDigests.standardSize + 1000
            let commit = try hub.commit(Self.repo, files: ["big.bin": .pattern(seed: 22, size: size, lfs: true), "a.txt": "a\n"])
            _ = try await runSync(SyncRequest(repo: Self.repo, endpoint: hub.endpoint, location: .cache(tmp.path), transfer: testTransferOptions()))
            let store = CacheStore(root: tmp.path)
            #expect(store.loadManifest(Self.repo, commit: commit)?.entries.allSatisfy { $0.chunks == nil } == true, "a plain sync computes none")
            let report = try StoreVerifier(store: store).verify([Self.repo])
            #expect(report.isHealthy)
            let m = try #require(store.loadManifest(Self.repo, commit: commit))
            #expect(m.formatVersion == 2)
            let big = try #require(m.entry(at: "big.bin")?.chunks)
            let bytes = try #require(hub.files(Self.repo, "main")["big.bin"]).content.bytes(in: 0..<size)
            #expect(big == Self.digests(bytes, chunk: ChunkDigests.standardSize))
            #expect(big.sha256.count == 2 && big.fits(size: size))
            #expect(m.entry(at: "a.txt")?.chunks?.sha256 == [Digest.hex(.sha256, of: Array("a\n".utf8))])
        }
    }
}

/// Runs blocking work on its own thread so the cooperative pool (and the fake hub) keep running.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        let t = Thread { c.resume(with: Result { try work() }) }
        t.stackSize = 4 << 20
        t.start()
    }
}
