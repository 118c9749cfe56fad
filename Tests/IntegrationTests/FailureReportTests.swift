import Foundation
import HubCore
import HubFakeHub
import HubStore
import HubSync
import HubTransfer
import Testing

/// Failures are classified and worded for what really happened (issue #8, item 6): a disallowed
/// redirect is permanent, a CDN that refuses every link says so, and local leftovers are not blamed on
/// the server.
@Suite struct FailureReportTests {
    static let repo = FakeHub.model("acme/reports")
    static let bigSize: Int64 = 4 << 20
    typealias Rule = FakeHub.FaultRule

    static func populate(_ hub: FakeHub) throws -> String {
        try hub.commit(repo, files: [
            "README.md": "# reports\n",
            "big.bin": .pattern(seed: 11, size: bigSize, lfs: true),
        ])
    }

    func request(_ hub: FakeHub, _ cache: String, _ change: (inout TransferOptions) -> Void = { _ in }) -> SyncRequest {
        SyncRequest(repo: Self.repo, endpoint: hub.endpoint, location: .cache(cache),
                    transfer: testTransferOptions { o in o.chunkSize = 1 << 20; change(&o) })
    }

    @Test func aRedirectToAFileURLIsPermanentNotRetried() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            _ = try Self.populate(hub)
            let id = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 100, action: .redirect(location: "file:///etc/passwd")))
            let events = EventLog()
            let e = await hubError { _ = try await runSync(request(hub, tmp.path), events: events) }
            #expect(e?.kind == .protocolViolation)
            #expect(e?.exitCode == 23)
            #expect(e?.isRetryable == false)
            #expect(e?.message.contains("big.bin") == true)
            #expect(e?.message.contains("'file'") == true, "names the scheme: \(e?.message ?? "")")
            #expect(hub.firedCount(id) == 1, "asked once, not retried")
            #expect(events.retries.isEmpty, "no retry: \(events.retries)")
        }
    }

    @Test func aCDNThatRefusesEveryLinkSaysSoInItsFinalMessage() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            hub.liveHubStyle = true
            _ = try Self.populate(hub)
            _ = hub.addFault(Rule(.cdn, match: .file("big.bin"), times: 1000, action: .expiredSignature))
            let e = await hubError { _ = try await runSync(request(hub, tmp.path) { $0.retry.maxAttempts = 3 }) }
            #expect(e?.exitCode == 22)
            let message = e?.message ?? ""
            #expect(message.contains("big.bin"))
            #expect(!message.contains("resolving again"), "final message: \(message)")
            #expect(message.contains("every one of 3 attempts"), "final message: \(message)")
        }
    }

    @Test func aFileThatChangedOnlyOnTheFirstRequestIsReportedAsARetryNotAFailure() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 1, action: .changeContent(.pattern(seed: 12, size: Self.bigSize))))
            let events = EventLog()
            let (r, _) = try await runSync(request(hub, tmp.path), events: events)
            #expect(r.commit == commit)
            let failed = events.all.filter { if case .fileFailed = $0 { return true } else { return false } }
            #expect(failed.isEmpty, "no failure event for a file that then verified: \(failed)")
            #expect(events.retries.contains { $0.contains("big.bin") && $0.contains("changed upstream") && $0.contains("listing main again") })
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
        }
    }

    @Test func aFileThatKeepsChangingIsReportedAsFailedOnce() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            _ = try Self.populate(hub)
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 100, action: .changeContent(.pattern(seed: 12, size: Self.bigSize))))
            let events = EventLog()
            let e = await hubError { _ = try await runSync(request(hub, tmp.path), events: events) }
            #expect(e?.kind == .upstreamChanged)
            let failed = events.all.filter { if case .fileFailed = $0 { return true } else { return false } }
            #expect(failed.count == 1, "the second round's failure only: \(failed)")
        }
    }

    @Test func aDamagedLeftoverPartialFileIsBlamedOnTheLeftoverNotTheServer() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            // A first run that stops after the first chunks, keeping its partial file and journal.
            _ = hub.addFault(Rule(.hub, match: .file("big.bin"), range: .startingAt(2 << 20), times: 1000, action: .status(503)))
            _ = await hubError { _ = try await runSync(request(hub, tmp.path) { $0.retry.maxAttempts = 2; $0.connections = 1 }) }
            let etag = try #require(hub.files(Self.repo, "main")["big.bin"]).sha256
            let partial = CacheStore(root: tmp.path).stateDirectory(Self.repo) + "/partial/\(etag).part"
            let fd = open(partial, O_WRONLY)
            try #require(fd >= 0, "partial file kept at \(partial)")
            var junk: UInt8 = 0x5A
            #expect(pwrite(fd, &junk, 1, 1000) == 1)
            close(fd)
            hub.removeAllFaults()

            let events = EventLog()
            let (r, _) = try await runSync(request(hub, tmp.path), events: events)
            #expect(r.commit == commit)
            let sources = events.all.compactMap { if case .corrupted(_, let source, _) = $0 { return source } else { return nil } }
            #expect(sources == ["partial file left by an earlier run"], "blame: \(sources)")
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
        }
    }
}
