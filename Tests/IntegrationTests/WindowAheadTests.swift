import Foundation
import HubCore
import HubFakeHub
import HubSync
import HubTransfer
import Testing

/// Requests started past a file's window (`TransferOptions.windowAhead`): their bytes wait in the
/// paused connection until the window moves on, and faults on the ranges inside the window still
/// recover, with every byte fetched once and nothing published unverified.
@Suite struct WindowAheadTests {
    static let repo = FakeHub.model("acme/ahead")
    static let size: Int64 = 6 << 20
    typealias Rule = FakeHub.FaultRule

    static func populate(_ hub: FakeHub) throws -> String {
        try hub.commit(repo, files: [
            "a.bin": .pattern(seed: 21, size: size, lfs: true),
            "b.bin": .pattern(seed: 22, size: size, lfs: true),
        ])
    }

    /// Windows of 1 MiB on 6 MiB files, 256 KiB requests: most requests start past their window.
    func request(_ hub: FakeHub, _ cache: String, connections: Int) -> SyncRequest {
        SyncRequest(repo: Self.repo, endpoint: hub.endpoint, location: .cache(cache),
                    transfer: testTransferOptions { o in
                        o.chunkSize = 1 << 20
                        o.windowBytes = 1 << 20
                        o.requestSize = 256 << 10
                        o.receiveBuffer = 16 << 10
                        o.connections = connections
                    })
    }

    @Test(arguments: [1, 2, 8])
    func everyByteArrivesOnceThroughPausedRequests(_ connections: Int) async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            let (r, _) = try await runSync(request(hub, tmp.path, connections: connections))
            #expect(r.filesFetched == 2)
            #expect(r.bytesReceived == 2 * Self.size, "nothing fetched twice")
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
            // Asked for 256 KiB at a time (so that most requests start past the window).
            let lengths = hub.requests.compactMap { q in
                q.range.flatMap { r -> Int64? in
                    let p = r.dropFirst(6).split(separator: "-").compactMap { Int64($0) }
                    return p.count == 2 ? p[1] - p[0] + 1 : nil
                }
            }
            #expect(lengths.count >= 2 * Int(Self.size / (256 << 10)) && lengths.allSatisfy { $0 <= 256 << 10 }, "\(lengths)")
        }
    }

    @Test func faultsInsideTheWindowRecoverWhileRequestsWaitPastIt() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            // The frontier of each file breaks while the requests behind it fill the window and wait.
            _ = hub.addFault(Rule(.hub, match: .file("a.bin"), range: .startingAt(0), times: 1, action: .stallAfter(bytes: 100_000)))
            _ = hub.addFault(Rule(.hub, match: .file("a.bin"), range: .startingAt(1 << 20), times: 1, action: .resetAfter(bytes: 50_000)))
            _ = hub.addFault(Rule(.hub, match: .file("b.bin"), range: .startingAt(0), times: 1, action: .truncateAfter(bytes: 70_000)))
            _ = hub.addFault(Rule(.hub, match: .file("b.bin"), range: .startingAt(3 << 20), times: 2, action: .status(503)))
            let events = EventLog()
            let (r, _) = try await runSync(request(hub, tmp.path, connections: 2), events: events)
            #expect(r.filesFetched == 2)
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
            #expect(events.retries.count >= 4, "\(events.retries)")
            // Only what the faults cut off is asked for again, plus what they left in socket buffers.
            #expect(r.bytesReceived <= 2 * Self.size + 100_000 + 50_000 + 70_000)
        }
    }
}
