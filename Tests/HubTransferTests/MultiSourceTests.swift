import Foundation
import HubCore
import HubHTTP
import Testing
@testable import HubTransfer

/// Which source takes which range when peers hold some, all or none of a file, are still fetching it,
/// or split the upstream fetches as a fleet; and how a peer that sent wrong bytes is found.
@Suite struct MultiSourceTests {
    typealias Action = FileTransfer.Action
    static let mib: Int64 = 1 << 20

    /// What a test peer holds; changed by the test between scheduling passes.
    final class Holdings: @unchecked Sendable {
        var availability: SourceAvailability
        init(_ a: SourceAvailability) { availability = a }
    }

    struct Peer: ContentSource {
        var name: String
        var holdings: Holdings
        var maxConnections = 8
        var id: String { "peer \(name)" }
        var base: String { "http://\(name).test" }
        var credentials: Credentials { Credentials(token: nil, endpoint: base) }
        func url(for entry: ManifestEntry) -> String { "\(base)/api/mirror/v1/blobs/\(entry.etag)" }
        func isOwnOrigin(_ url: String) -> Bool { url.hasPrefix(base) }
        func error(status: Int, headers: HTTPHeaders, url: String, label: String) -> HubError { HubError(.http, "\(label): \(status)") }
        func availability(of entry: ManifestEntry) -> SourceAvailability { holdings.availability }
        var fleetMember: String? { base }
    }

    static let upstream = HubEndpointSource(endpoint: "http://hub.test", repo: RepoRef(type: .model, id: try! RepoID("acme/m")),
                                            commit: String(repeating: "c", count: 40), credentials: Credentials(token: "t", endpoint: "http://hub.test"),
                                            isFallback: true)

    static func entry(size: Int64) -> ManifestEntry {
        ManifestEntry(path: "w.bin", size: size, blobID: String(repeating: "b", count: 40),
                      lfs: LFSInfo(sha256: String(repeating: "a", count: 64), size: size, pointerSize: 130))
    }

    static func machine(_ sources: [any ContentSource], size: Int64 = 16 * mib, chunk: Int64 = 4 * mib, fleet: Fleet? = nil) -> Driver {
        var c = FileTransfer.Config(label: "acme/m:w.bin", entry: entry(size: size), sources: sources, chunkSize: chunk)
        c.retry = RetryPolicy(maxAttempts: 2, baseDelay: 1, maxDelay: 1)
        c.fleet = fleet
        return Driver(FileTransfer(c))
    }

    static func deliver(_ m: Driver, _ r: FileTransfer.Request) {
        let h = FileTransferTests.partial(r.range, total: m.m.config.entry.size)
        #expect(m.headersReceived(r.id, status: 206, headers: h) == nil)
        _ = m.bytesWritten(r.id, upTo: r.range.end)
        _ = m.requestFinished(r.id, .finished(.completed), now: 0, random: 0)
    }

    /// Delivers every request the machine sends until it sends no more; which source sent each range start.
    static func takeAll(_ m: Driver) -> [Int64: Int] {
        var out: [Int64: Int] = [:]
        while true {
            let batch = drain(m)
            if batch.isEmpty { return out }
            for r in batch.values {
                out[r.range.start] = r.source
                deliver(m, r)
            }
        }
    }

    /// Every request the machine will send now, by range start.
    static func drain(_ m: Driver) -> [Int64: FileTransfer.Request] {
        var out: [Int64: FileTransfer.Request] = [:]
        while let r = m.nextRequest(now: 0, canUse: { _ in true }) { out[r.range.start] = r }
        return out
    }

    @Test func chunksOfOneFileAreSpreadOverThePeersThatHoldItWhole() throws {
        let a = Peer(name: "a", holdings: Holdings(.whole)), b = Peer(name: "b", holdings: Holdings(.whole))
        let m = Self.machine([a, b, Self.upstream], size: 64 * Self.mib)
        // One request per peer until its URL is known, then all the rest.
        for r in Self.drain(m).values { Self.deliver(m, r) }
        var bySource: [Int: Int] = [:]
        for r in Self.drain(m).values { bySource[r.source, default: 0] += 1 }
        #expect(bySource[0, default: 0] > 0 && bySource[1, default: 0] > 0 && bySource[2] == nil, "\(bySource)")
    }

    @Test func aPeerStillDownloadingIsAskedForWhatItHasAndWaitedForTheRestNotTheUpstream() throws {
        let held = Holdings(SourceAvailability(whole: false, ranges: IntervalSet([ByteRange(0, 4 * Self.mib)]), fetching: true))
        let m = Self.machine([Peer(name: "a", holdings: held), Self.upstream])
        let first = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(first.source == 0 && first.range == ByteRange(0, 4 * Self.mib))
        Self.deliver(m, first)
        #expect(m.nextRequest(now: 0) { _ in true } == nil, "the rest: the peer is getting it, so nobody is asked yet")
        held.availability.ranges.insert(ByteRange(4 * Self.mib, 8 * Self.mib))
        let second = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(second.source == 0 && second.range == ByteRange(4 * Self.mib, 8 * Self.mib))
        #expect(m.nextRequest(now: 0) { _ in true } == nil)
        // The peer stops making progress (or vanishes): the upstream takes what it lacks.
        held.availability.fetching = false
        let rest = Self.drain(m)
        #expect(Set(rest.keys) == [8 * Self.mib] && rest.values.allSatisfy { $0.source == 1 }, "one request until the upstream's URL is known: \(rest)")
    }

    @Test func aPeerThatHoldsNothingAndIsNotFetchingItCostsNoWait() throws {
        let m = Self.machine([Peer(name: "a", holdings: Holdings(.none)), Self.upstream])
        #expect(m.nextRequest(now: 0) { _ in true }?.source == 1)
    }

    @Test func aPeerThatMayStillStartOnTheContentIsWaitedForBriefly() throws {
        let held = Holdings(SourceAvailability(whole: false, expected: true))
        let m = Self.machine([Peer(name: "a", holdings: held), Self.upstream])
        #expect(m.nextRequest(now: 0) { _ in true } == nil, "just after the start: the peer may plan it")
        held.availability.expected = false
        #expect(m.nextRequest(now: 0) { _ in true }?.source == 1)
    }

    @Test func aFleetFetchesFromUpstreamOnlyTheChunksItOwnsAndWaitsForItsPeersForTheRest() throws {
        let size = 8 * Rendezvous.gridSize
        let digest = Self.entry(size: size).etag
        let names = ["http://me.test", "http://a.test", "http://b.test"]
        let owners = (0..<8).map { Rendezvous.owner(digest: digest, chunk: Int64($0), members: names)! }
        #expect(Set(owners).count == 3, "8 chunks spread over 3 mirrors: \(owners)")
        let a = Holdings(SourceAvailability(whole: false, expected: true)), b = Holdings(SourceAvailability(whole: false, expected: true))
        let m = Self.machine([Peer(name: "a", holdings: a), Peer(name: "b", holdings: b), Self.upstream],
                             size: size, chunk: Rendezvous.gridSize, fleet: Fleet(me: names[0]))
        let first = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(first.source == 2 && owners[Int(first.range.start / Rendezvous.gridSize)] == 0, "the upstream, for a chunk this mirror owns")
        Self.deliver(m, first)
        let mine = Self.drain(m)
        #expect(mine.values.allSatisfy { $0.source == 2 })
        #expect(Set(mine.keys.map { Int($0 / Rendezvous.gridSize) }) == Set(owners.indices.filter { owners[$0] == 0 }).subtracting([Int(first.range.start / Rendezvous.gridSize)]))
        for r in mine.values { Self.deliver(m, r) }
        // Peer a publishes its chunks; b goes away: b's chunks are owned anew among the live members.
        let aChunks = owners.indices.filter { owners[$0] == 1 }
        for c in aChunks { a.availability.ranges.insert(ByteRange(Int64(c) * Rendezvous.gridSize, Int64(c + 1) * Rendezvous.gridSize)) }
        let fromA = Self.takeAll(m)
        #expect(Set(fromA.keys.map { Int($0 / Rendezvous.gridSize) }) == Set(aChunks) && fromA.values.allSatisfy { $0 == 0 })
        b.availability.expected = false
        let left = owners.indices.filter { owners[$0] == 2 }
        let reowned = left.filter { Rendezvous.owner(digest: digest, chunk: Int64($0), members: Array(names.prefix(2))) == 0 }
        let now = Self.takeAll(m)
        #expect(Set(now.keys.map { Int($0 / Rendezvous.gridSize) }) == Set(reowned) && now.values.allSatisfy { $0 == 2 },
                "b's chunks this mirror now owns come from the upstream; a's wait for a")
    }

    @Test func withNoUpstreamAndNoPeerThatHoldsOrGetsARangeTheFileFailsNamingIt() throws {
        let m = Self.machine([Peer(name: "a", holdings: Holdings(SourceAvailability(whole: false, ranges: IntervalSet([ByteRange(0, 4 * Self.mib)]))))])
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        Self.deliver(m, r)
        #expect(m.nextRequest(now: 0) { _ in true } == nil)
        let a = m.tick(now: 1)
        guard case .fail(let e) = a.last else { Issue.record("\(a)"); return }
        #expect(e.kind == .entryNotFound && e.message.contains("no source holds bytes 4194304-"))
    }

    /// Two peers hold the file whole; `liar` sends wrong bytes for `chunk` (consistently: any chunk list
    /// it would give matches them). Returns the machine after the whole file was written once.
    static func writtenByTwoPeers() -> (Driver, [Int: Int64]) {
        let a = Peer(name: "a", holdings: Holdings(.whole)), b = Peer(name: "b", holdings: Holdings(.whole))
        let m = Self.machine([a, b, Self.upstream], size: 32 * Self.mib)
        var bytes: [Int: Int64] = [:]
        for _ in 0..<3 {
            for r in Self.drain(m).values {
                bytes[r.source, default: 0] += r.range.count
                Self.deliver(m, r)
            }
        }
        return (m, bytes)
    }

    @Test("A consistent liar is found by replacing one source's bytes at a time", arguments: [true, false])
    func aConsistentLiarIsFound(liarSentFewerBytes: Bool) throws {
        let (m, bytes) = Self.writtenByTwoPeers()
        #expect(bytes.keys.sorted() == [0, 1], "both peers sent part of the file: \(bytes)")
        let bad = String(repeating: "e", count: 64), good = String(repeating: "a", count: 64)
        // The first suspect is the one that sent fewer bytes.
        let first = bytes[0]! <= bytes[1]! ? 0 : 1, other = 1 - first
        let liar = liarSentFewerBytes ? first : other
        let a1 = m.fileHashed(sha256: bad, gitBlobID: nil)
        #expect(a1.last == .rehash && !a1.contains { if case .strike = $0 { return true } else { return false } }, "nobody is struck on suspicion: \(a1)")
        let refetch = Self.takeAll(m)
        #expect(!refetch.isEmpty && refetch.values.allSatisfy { $0 == other }, "the suspect's bytes come from the other peer, not the upstream")
        #expect(m.m.written.totalBytes == 32 * Self.mib)
        if liar == first {
            let a2 = m.fileHashed(sha256: good, gitBlobID: nil)
            guard case .strike(let s, let why) = a2.first else { Issue.record("\(a2)"); return }
            #expect(s == liar && why.contains("with them fetched elsewhere it matched"))
            #expect(a2.last == .publish(sha256: good) && m.phase == .done)
            return
        }
        // Still wrong with every byte from the liar: it alone is struck and the file starts over without it.
        let a2 = m.fileHashed(sha256: bad, gitBlobID: nil)
        #expect(a2.contains { if case .strike(liar, _) = $0 { return true } else { return false } } && a2.last == .restart)
        let again = Self.takeAll(m)
        #expect(again.values.allSatisfy { $0 == first } && again.count == 8, "all of it from the honest peer: \(again)")
        #expect(m.fileHashed(sha256: good, gitBlobID: nil) == [.publish(sha256: good)] && m.m.struck == [liar])
    }
}
