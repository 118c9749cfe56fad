import Testing
import Foundation
import HubCore

private func r(_ a: Int64, _ b: Int64) -> ByteRange { ByteRange(a, b) }

@Suite struct ByteRangeTests {
    @Test func basics() {
        let x = r(10, 20)
        #expect(x.count == 10)
        #expect(!x.isEmpty)
        #expect(r(5, 5).isEmpty)
        #expect(x.description == "10..<20")
        #expect(x.httpRange == "bytes=10-19", "HTTP ranges are inclusive")
        #expect(r(0, 1).httpRange == "bytes=0-0")
    }
}

@Suite struct IntervalSetTests {
    @Test func insertDisjointKeepsOrder() {
        var s = IntervalSet()
        s.insert(r(20, 30))
        s.insert(r(0, 5))
        s.insert(r(10, 12))
        #expect(s.ranges == [r(0, 5), r(10, 12), r(20, 30)])
        #expect(s.totalBytes == 17)
    }

    @Test func adjacentRangesMerge() {
        var s = IntervalSet([r(0, 10)])
        s.insert(r(10, 20))
        #expect(s.ranges == [r(0, 20)])
        s.insert(r(25, 30))
        s.insert(r(20, 25))
        #expect(s.ranges == [r(0, 30)])
    }

    @Test func overlappingRangesMerge() {
        var s = IntervalSet([r(0, 10), r(20, 30), r(40, 50)])
        s.insert(r(5, 45))
        #expect(s.ranges == [r(0, 50)])
        s.insert(r(10, 20))
        #expect(s.ranges == [r(0, 50)], "a range inside is absorbed")
        s.insert(r(60, 70))
        s.insert(r(55, 65))
        #expect(s.ranges == [r(0, 50), r(55, 70)])
    }

    @Test func bridgingAndEnclosing() {
        var s = IntervalSet([r(10, 20), r(30, 40)])
        s.insert(r(0, 100))
        #expect(s.ranges == [r(0, 100)])
        #expect(s.totalBytes == 100)
    }

    @Test func emptyRangeIgnored() {
        var s = IntervalSet()
        s.insert(r(5, 5))
        #expect(s.ranges.isEmpty)
        #expect(s.totalBytes == 0)
    }

    @Test func initMergesUnsortedInput() {
        let s = IntervalSet([r(30, 40), r(0, 10), r(5, 15), r(15, 20)])
        #expect(s.ranges == [r(0, 20), r(30, 40)])
    }

    @Test func contiguousPrefix() {
        #expect(IntervalSet().contiguousPrefix == 0)
        #expect(IntervalSet([r(1, 10)]).contiguousPrefix == 0, "byte 0 missing")
        #expect(IntervalSet([r(0, 10), r(20, 30)]).contiguousPrefix == 10)
        #expect(IntervalSet([r(0, 10), r(10, 30)]).contiguousPrefix == 30)
    }

    @Test func contains() {
        let s = IntervalSet([r(0, 10), r(20, 30)])
        #expect(s.contains(r(0, 10)))
        #expect(s.contains(r(22, 25)))
        #expect(!s.contains(r(5, 25)), "spanning a gap is not contained")
        #expect(!s.contains(r(30, 31)))
    }

    @Test func missing() {
        let s = IntervalSet([r(10, 20), r(30, 40)])
        #expect(s.missing(size: 50) == [r(0, 10), r(20, 30), r(40, 50)])
        #expect(s.missing(size: 35) == [r(0, 10), r(20, 30)])
        #expect(s.missing(size: 15) == [r(0, 10)])
        #expect(s.missing(size: 5) == [r(0, 5)])
        #expect(IntervalSet().missing(size: 7) == [r(0, 7)])
        #expect(IntervalSet().missing(size: 0) == [])
        #expect(IntervalSet([r(0, 100)]).missing(size: 50) == [])
    }

    @Test func codable() throws {
        let s = IntervalSet([r(0, 10), r(20, 30)])
        let back = try JSONDecoder().decode(IntervalSet.self, from: try JSONEncoder().encode(s))
        #expect(back == s)
    }
}

@Suite struct IntervalSetCutAndLookupTests {
    @Test func removeTrimsSplitsAndDrops() {
        var s = IntervalSet([r(0, 10), r(20, 30), r(40, 50)])
        s.remove(r(5, 25))
        #expect(s.ranges == [r(0, 5), r(25, 30), r(40, 50)])
        s.remove(r(42, 45))
        #expect(s.ranges == [r(0, 5), r(25, 30), r(40, 42), r(45, 50)])
        s.remove(r(25, 30))
        #expect(s.ranges == [r(0, 5), r(40, 42), r(45, 50)])
        s.remove(r(5, 40))
        s.remove(r(7, 7))
        #expect(s.ranges == [r(0, 5), r(40, 42), r(45, 50)], "touching or empty cuts remove nothing")
        s.remove(r(0, 100))
        #expect(s.ranges.isEmpty)
    }

    @Test func rangeContainingAndNextStart() {
        let s = IntervalSet([r(10, 20), r(30, 40)])
        #expect(s.range(containing: 10) == r(10, 20))
        #expect(s.range(containing: 19) == r(10, 20))
        #expect(s.range(containing: 20) == nil)
        #expect(s.range(containing: 5) == nil)
        #expect(s.start(after: 0) == 10)
        #expect(s.start(after: 10) == 30)
        #expect(s.start(after: 25) == 30)
        #expect(s.start(after: 30) == nil)
    }
}

@Suite struct ChunkPlannerTests {
    @Test func wholeFileOnTheGrid() {
        let p = ChunkPlanner(chunkSize: 4)
        #expect(p.plan(size: 10) == [r(0, 4), r(4, 8), r(8, 10)])
        #expect(p.plan(size: 8) == [r(0, 4), r(4, 8)])
        #expect(p.plan(size: 3) == [r(0, 3)])
    }

    @Test func sizeZeroPlansNothing() {
        #expect(ChunkPlanner(chunkSize: 4).plan(size: 0) == [])
    }

    @Test func resumeSkipsCompletedAndSplitsPartialChunksOnTheGrid() {
        let p = ChunkPlanner(chunkSize: 4)
        // Bytes 0..<5 and 9..<12 done: the partial chunks 4..<8 and 8..<12 are re-cut at their missing parts.
        let plan = p.plan(size: 14, completed: IntervalSet([r(0, 5), r(9, 12)]))
        #expect(plan == [r(5, 8), r(8, 9), r(12, 14)])
        // Every piece stays inside one grid cell.
        for piece in plan { #expect((piece.start / 4) == ((piece.end - 1) / 4), "\(piece) crosses the grid") }
    }

    @Test func resumeWithEverythingDone() {
        #expect(ChunkPlanner(chunkSize: 4).plan(size: 10, completed: IntervalSet([r(0, 10)])) == [])
    }

    @Test(arguments: [Int64(1), 7, 64, 1000])
    func planCoversExactlyWhatIsMissing(_ chunk: Int64) {
        let done = IntervalSet([r(3, 17), r(40, 41), r(90, 200)])
        let plan = ChunkPlanner(chunkSize: chunk).plan(size: 150, completed: done)
        var all = done
        for piece in plan {
            #expect(!piece.isEmpty)
            #expect(piece.count <= chunk)
            #expect(!done.ranges.contains { $0.start < piece.end && piece.start < $0.end }, "\(piece) overlaps done bytes")
            all.insert(piece)
        }
        #expect(all.missing(size: 150).isEmpty)
        #expect(plan.reduce(0) { $0 + $1.count } == 150 - (14 + 1 + 60))
    }

    @Test func sameGridOnResume() {
        // A resumed plan's cut points are a subset of the first plan's cut points plus resume points.
        let p = ChunkPlanner(chunkSize: 10)
        let first = Set(p.plan(size: 95).flatMap { [$0.start, $0.end] })
        let resumed = p.plan(size: 95, completed: IntervalSet([r(0, 20), r(50, 60)]))
        for piece in resumed { #expect(first.contains(piece.end)) }
    }

    @Test func defaultChunkSizeBounds() {
        let mib: Int64 = 1 << 20
        #expect(ChunkPlanner.defaultChunkSize(fileSize: 0, connections: 8) == 8 * mib)
        #expect(ChunkPlanner.defaultChunkSize(fileSize: 10 * mib, connections: 8) == 8 * mib)
        #expect(ChunkPlanner.defaultChunkSize(fileSize: 512 * mib, connections: 4) == 32 * mib)
        #expect(ChunkPlanner.defaultChunkSize(fileSize: 1 << 40, connections: 8) == 64 * mib)
        #expect(ChunkPlanner.defaultChunkSize(fileSize: 1 << 40, connections: 0) == 64 * mib, "0 connections treated as 1")
        #expect(ChunkPlanner.defaultChunkSize(fileSize: 513 * mib + 5, connections: 4) % mib == 0, "whole MiB")
        var size: Int64 = 0
        while size <= 10 << 30 {
            for c in [1, 2, 8, 64] {
                let s = ChunkPlanner.defaultChunkSize(fileSize: size, connections: c)
                #expect(s >= 8 * mib && s <= 64 * mib)
            }
            size += 333 * mib
        }
    }
}
