import Foundation
import HubCore
import HubDigest
import HubStore
import Testing
@testable import HubTransfer

/// Two files on one `HashGroup`: their bytes are hashed side by side where both have some ready, alone
/// where only one has, and each file gets its own right digest and every byte stored, whatever the
/// order and size of the pieces that arrive.
@Suite struct PairedHashingTests {
    typealias Pipeline = WindowPipelineTests

    struct Lane: @unchecked Sendable {
        let bytes: [UInt8]
        let piece: Int
        let spy: Pipeline.Spy
        let outcomes: Pipeline.Outcomes
        let hasher: FrontierHasher
        var at = 0
        var stored: Int64 = 0
    }

    static func lane(_ bytes: [UInt8], piece: Int, capacity: Int, group: HashGroup, onDisk: IntervalSet = IntervalSet(),
                     prefilled: [UInt8] = []) -> Lane {
        let spy = Pipeline.Spy(size: Int64(bytes.count), prefilled: prefilled)
        let outcomes = Pipeline.Outcomes()
        let h = FrontierHasher(content: spy, window: FileWindow(capacity: capacity), onDisk: onDisk, gitBlob: false, label: "p",
                               group: group, writeSize: 256 << 10) { outcomes.add($0) }
        return Lane(bytes: bytes, piece: piece, spy: spy, outcomes: outcomes, hasher: h)
    }

    /// Feeds both lanes a piece at a time in turns (one lane `aheadBy` pieces per turn of the other),
    /// never more than a window holds past its stored prefix.
    static func feed(_ lanes: inout [Lane], from: [Int] = [0, 0], turns: [Int] = [1, 1]) {
        for i in lanes.indices {
            lanes[i].at = from[i]
            lanes[i].hasher.advance(to: Int64(from[i]))
        }
        while lanes.contains(where: { $0.at < $0.bytes.count }) {
            for i in lanes.indices {
                for _ in 0..<turns[i] where lanes[i].at < lanes[i].bytes.count {
                    let l = lanes[i]
                    let n = min(l.piece, l.bytes.count - l.at)
                    let capacity = l.hasher.window.capacity
                    if Int64(l.at + n) > l.stored + Int64(capacity) {
                        #expect(l.outcomes.storedAtLeast(Int64(l.at + n - capacity)), "the window moves on")
                        lanes[i].stored = Int64(l.at + n - capacity)
                    }
                    l.bytes[l.at..<(l.at + n)].withUnsafeBytes { l.hasher.window.copy($0, at: Int64(l.at)) }
                    lanes[i].at += n
                    l.hasher.advance(to: Int64(l.at + n))
                }
            }
        }
    }

    /// Feeds the lanes and waits for their outcomes on a thread of its own: the waits block it, and a
    /// blocked thread of the dispatch pool could hold back the hashing and writing queues themselves.
    static func run(_ lanes: [Lane], from: [Int] = [0, 0], turns: [Int] = [1, 1]) async -> [HashOutcome?] {
        await withCheckedContinuation { (done: CheckedContinuation<[HashOutcome?], Never>) in
            Thread {
                var fed = lanes
                feed(&fed, from: from, turns: turns)
                done.resume(returning: fed.map { Pipeline.finished($0.outcomes) })
            }.start()
        }
    }

    static func check(_ lanes: [Lane], _ outcomes: [HashOutcome?]) throws {
        for (l, o) in zip(lanes, outcomes) {
            guard case .finished(let sha, _, _) = try #require(o) else {
                Issue.record("not finished: \(String(describing: o))")
                return
            }
            #expect(sha == Pipeline.sha256(l.bytes))
            #expect(l.spy.bytes == l.bytes, "every byte stored at its offset")
        }
    }

    @Test func twoFilesArrivingTogetherAreHashedSideBySide() async throws {
        let group = HashGroup(capacity: 2, label: "pair")
        let a = Pipeline.content((6 << 20) + 100), b = Array(Pipeline.content((5 << 20) + 3333).reversed())
        let lanes = [Self.lane(a, piece: 100_000, capacity: 1 << 20, group: group),
                     Self.lane(b, piece: 64 << 10, capacity: 1 << 20, group: group)]
        try Self.check(lanes, await Self.run(lanes))
        let (paired, alone) = group.queue.sync { (group.pairedBytes, group.aloneBytes) }
        #expect(paired + alone == Int64(a.count + b.count), "every byte hashed once")
        if ContentHasher.pairingAvailable {
            #expect(paired > 0, "some bytes were hashed side by side")
        } else {
            #expect(paired == 0)
        }
    }

    @Test func aFileThatRunsAheadIsHashedAloneNotHeldBack() async throws {
        let group = HashGroup(capacity: 2, label: "ahead")
        let a = Pipeline.content(4 << 20), b = Array(Pipeline.content(3 << 20).reversed())
        let lanes = [Self.lane(a, piece: 256 << 10, capacity: 1 << 20, group: group),
                     Self.lane(b, piece: 50_000, capacity: 1 << 20, group: group)]
        // The first lane gets four pieces per piece of the second, and finishes long before it.
        try Self.check(lanes, await Self.run(lanes, turns: [4, 1]))
    }

    @Test func leftoversOnDiskAndAnUnevenStartArePairedAroundOrHashedAlone() async throws {
        let group = HashGroup(capacity: 2, label: "leftover")
        let a = Pipeline.content(3 << 20), b = Array(Pipeline.content((2 << 20) + 5).reversed())
        // An earlier run left 100,000 bytes of the first file on disk.
        let prefix = Array(a[0..<100_000])
        let lanes = [Self.lane(a, piece: 70_000, capacity: 512 << 10, group: group, onDisk: IntervalSet([ByteRange(0, 100_000)]), prefilled: prefix),
                     Self.lane(b, piece: 33_333, capacity: 512 << 10, group: group)]
        try Self.check(lanes, await Self.run(lanes, from: [100_000, 0]))
        let reads = lanes[0].spy.reads
        #expect(reads.reduce(0) { $0 + $1.count } == 100_000 && reads.allSatisfy { $0.end <= 100_000 },
                "the leftover read once, nothing else read back: \(reads)")
    }

    @Test func aCancelledFileLeavesTheOtherToFinishAlone() async throws {
        let group = HashGroup(capacity: 2, label: "cancel")
        let a = Pipeline.content(2 << 20), b = Pipeline.content(2 << 20).map { $0 ^ 0x5A }
        let lanes = [Self.lane(a, piece: 64 << 10, capacity: 512 << 10, group: group),
                     Self.lane(b, piece: 64 << 10, capacity: 512 << 10, group: group)]
        // Three pieces of the second file, then it is cancelled; the first then arrives whole.
        let second = lanes[1]
        for k in 0..<3 {
            second.bytes[(k << 16)..<((k + 1) << 16)].withUnsafeBytes { second.hasher.window.copy($0, at: Int64(k << 16)) }
            second.hasher.advance(to: Int64((k + 1) << 16))
        }
        second.hasher.cancel()
        try Self.check([lanes[0]], await Self.run([lanes[0]]))
    }
}
