import Foundation
import HubCore
import HubFakeHub
import HubStore
import HubSync
import HubTransfer
import Testing

/// Every fault either recovers or fails with a clear error, and nothing unverified is ever published.
@Suite struct FaultTests {
    static let repo = FakeHub.model("acme/faulty")
    static let bigSize: Int64 = 4 << 20
    typealias Rule = FakeHub.FaultRule

    static func populate(_ hub: FakeHub) throws -> String {
        try hub.commit(repo, files: [
            "README.md": "# faulty\n",
            "big.bin": .pattern(seed: 7, size: bigSize, lfs: true),
            "small.txt": .text(String(repeating: "x", count: 200_000), lfs: false),
        ])
    }

    func request(_ hub: FakeHub, _ cache: String, _ change: (inout TransferOptions) -> Void = { _ in }) -> SyncRequest {
        SyncRequest(repo: Self.repo, endpoint: hub.endpoint, location: .cache(cache),
                    transfer: testTransferOptions { o in o.chunkSize = 1 << 20; change(&o) })
    }

    /// Nothing of the repo is visible: no ref, no snapshot.
    func expectNothingPublished(_ cache: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let store = CacheStore(root: cache)
        #expect(store.readRef(Self.repo, revision: "main") == nil, sourceLocation: sourceLocation)
        #expect(FS.listDirectory(store.repoDirectory(Self.repo) + "/snapshots").isEmpty, sourceLocation: sourceLocation)
    }

    @Test(arguments: [500, 502, 503])
    func serverErrorsAreRetried(_ status: Int) async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), range: .startingAt(1 << 20), times: 2, action: .status(status)))
            _ = hub.addFault(Rule(.hub, match: .rawPathContains("/tree/"), times: 1, action: .status(status)))
            let events = EventLog()
            let (r, _) = try await runSync(request(hub, tmp.path), events: events)
            #expect(r.filesFetched == 3)
            #expect(events.retries.count >= 2)
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
        }
    }

    @Test func tooManyRequestsWaitsForRetryAfter() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            let id = hub.addFault(Rule(.hub, match: .file("README.md"), times: 1, action: .tooManyRequests(retryAfter: 1)))
            let started = Date()
            let events = EventLog()
            _ = try await runSync(request(hub, tmp.path), events: events)
            #expect(hub.firedCount(id) == 1)
            #expect(Date().timeIntervalSince(started) >= 1.0, "waited for Retry-After")
            #expect(events.retries.contains { $0.contains("429") })
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
        }
    }

    @Test func resetAndTruncatedBodiesResumeWhereTheyStopped() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), range: .startingAt(0), times: 1, action: .resetAfter(bytes: 300_000)))
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), range: .startingAt(2 << 20), times: 1, action: .truncateAfter(bytes: 500_000)))
            _ = hub.addFault(Rule(.hub, match: .file("small.txt"), times: 1, action: .truncateAfter(bytes: 1000)))
            let (r, _) = try await runSync(request(hub, tmp.path))
            #expect(r.filesFetched == 3)
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
            // Only the missing remainder is asked for again: at most what was lost in socket buffers.
            #expect(hub.bytesSent(path: "big.bin") <= Self.bigSize + 300_000 + 500_000)
            // A request continued mid-chunk, from where the cut body stopped.
            let starts = hub.requests.filter { $0.filePath == "big.bin" }.compactMap { r in
                r.range.flatMap { Int64($0.dropFirst(6).prefix { $0 != "-" }) }
            }
            #expect(starts.contains { $0 % (1 << 20) != 0 }, "resumed mid-chunk: \(starts)")
        }
    }

    @Test func aCorruptedByteIsDetectedRefetchedAndNeverPublished() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), range: .startingAt(2 << 20), times: 1, action: .corruptByte(offset: 2_500_000)))
            _ = hub.addFault(Rule(.hub, match: .file("small.txt"), times: 1, action: .corruptByte(offset: 10)))
            let events = EventLog()
            let (r, _) = try await runSync(request(hub, tmp.path), events: events)
            #expect(events.corruptions == 2)
            #expect(r.filesFetched == 3)
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
        }
    }

    @Test func contentThatStaysCorruptFailsWithVerificationAndPublishesNothing() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            _ = try Self.populate(hub)
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 100, action: .corruptByte(offset: 123)))
            let e = await hubError { _ = try await runSync(request(hub, tmp.path)) }
            #expect(e?.kind == .verification)
            #expect(e?.message.contains("big.bin") == true)
            expectNothingPublished(tmp.path)
            let blobs = FS.listDirectory(CacheStore(root: tmp.path).repoDirectory(Self.repo) + "/blobs")
            let bigEtag = try #require(hub.files(Self.repo, "main")["big.bin"]).sha256
            #expect(!blobs.contains(bigEtag), "the corrupt content never became a blob")
        }
    }

    @Test func aServerThatIgnoresRangeIsNeverAppended() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            hub.ignoreRangeAlways = true
            let events = EventLog()
            let (r, _) = try await runSync(request(hub, tmp.path), events: events)
            #expect(r.filesFetched == 3)
            #expect(events.retries.contains { $0.contains("ignored Range") })
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
        }
    }

    @Test func aFileThatChangedUpstreamIsListedAgainNotMixed() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 1, action: .changeContent(.pattern(seed: 99, size: Self.bigSize + 10))))
            let (r, _) = try await runSync(request(hub, tmp.path))
            #expect(r.commit == commit)
            #expect(hub.requests.filter { $0.path.contains("/revision/main") }.count == 2, "listed again")
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
        }
    }

    @Test func aFileThatKeepsChangingFailsWithUpstreamChanged() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            _ = try Self.populate(hub)
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 100, action: .changeContent(.pattern(seed: 99, size: Self.bigSize))))
            let e = await hubError { _ = try await runSync(request(hub, tmp.path)) }
            #expect(e?.kind == .upstreamChanged)
            #expect(e?.exitCode == 31)
            expectNothingPublished(tmp.path)
        }
    }

    @Test func anExpiredCDNLinkIsResolvedAgain() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            hub.liveHubStyle = true
            let commit = try Self.populate(hub)
            _ = hub.addFault(Rule(.cdn, match: .file("big.bin"), range: .startingAt(1 << 20), times: 1, action: .expiredSignature))
            let (r, _) = try await runSync(request(hub, tmp.path))
            #expect(r.filesFetched == 3)
            let resolves = hub.requests.filter { $0.server == .hub && $0.filePath == "big.bin" }
            #expect(resolves.count >= 2, "resolved again after the 403")
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
        }
    }

    @Test func aStalledConnectionIsDetectedNotAHang() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), range: .startingAt(0), times: 1, action: .stallAfter(bytes: 10_000)))
            let events = EventLog()
            let (r, _) = try await runSync(request(hub, tmp.path) { $0.stallTimeout = 1 }, events: events)
            #expect(r.filesFetched == 3)
            #expect(events.retries.contains { $0.contains("stalled") || $0.contains("timed out") })
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
        }
    }

    @Test func persistentNetworkFailureKeepsThePreviousSnapshot() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let c1 = try Self.populate(hub)
            _ = try await runSync(request(hub, tmp.path))
            try hub.commit(Self.repo, files: ["big.bin": .pattern(seed: 8, size: Self.bigSize, lfs: true)])
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 1000, action: .status(503)))
            let e = await hubError { _ = try await runSync(request(hub, tmp.path) { $0.retry.maxAttempts = 3 }) }
            #expect(e?.kind == .http)
            #expect(e?.message.contains("big.bin") == true)
            let store = CacheStore(root: tmp.path)
            #expect(store.readRef(Self.repo, revision: "main") == c1, "old ref untouched")
            try expectSnapshotMatches(hub, Self.repo, commit: c1, cache: tmp.path)
        }
    }
}
