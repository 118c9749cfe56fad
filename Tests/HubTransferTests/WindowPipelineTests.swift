import Foundation
import HubCore
import HubDigest
import HubStore
import Testing
@testable import HubTransfer

/// The path of received bytes from a file's window through the hasher and the writer to the staged
/// content: hashed in memory, never read back, written aligned with O_DIRECT where taken.
@Suite struct WindowPipelineTests {
    /// Staged content in memory that records every call.
    final class Spy: StagedContent, @unchecked Sendable {
        let size: Int64
        let resumed = IntervalSet()
        let directAlignment: Int?
        var directRefusal: String? { directAlignment == nil ? "refused (test)" : nil }
        private let lock = NSLock()
        private var data: [UInt8]
        private(set) var buffered: [ByteRange] = []
        private(set) var direct: [ByteRange] = []
        private(set) var misaligned: [String] = []
        private(set) var reads: [ByteRange] = []
        private(set) var writebacks = 0
        private(set) var syncs = 0

        init(size: Int64, direct: Int? = 4096, prefilled: [UInt8] = []) {
            self.size = size
            directAlignment = direct
            data = prefilled + [UInt8](repeating: 0, count: Int(size) - prefilled.count)
        }

        var bytes: [UInt8] { lock.withLock { data } }

        private func put(_ b: UnsafeRawBufferPointer, _ offset: Int64) {
            for (i, v) in b.enumerated() { data[Int(offset) + i] = v }
        }

        func write(_ b: UnsafeRawBufferPointer, at offset: Int64) throws(HubError) {
            lock.withLock { buffered.append(ByteRange(offset, offset + Int64(b.count))); put(b, offset) }
        }

        func writeDirect(_ b: UnsafeRawBufferPointer, at offset: Int64) throws(HubError) {
            lock.withLock {
                direct.append(ByteRange(offset, offset + Int64(b.count)))
                if Int(bitPattern: b.baseAddress) % 4096 != 0 || b.count % 4096 != 0 || offset % 4096 != 0 {
                    misaligned.append("\(offset)+\(b.count)")
                }
                put(b, offset)
            }
        }

        func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(HubError) -> Int {
            lock.withLock {
                let n = min(buffer.count, Int(size - offset))
                reads.append(ByteRange(offset, offset + Int64(n)))
                for i in 0..<n { buffer[i] = data[Int(offset) + i] }
                return n
            }
        }

        func journal(_ ranges: IntervalSet) throws(HubError) {}
        func rewriteJournal(_ ranges: IntervalSet) throws(HubError) {}
        func restart() throws(HubError) {}
        func startWriteback(offset: Int64, count: Int64) { lock.withLock { writebacks += 1 } }
        func syncData() throws(HubError) { lock.withLock { syncs += 1 } }
        func close() {}
    }

    /// Collects outcomes; `wait` blocks until one matches (no sleeps: a semaphore per outcome).
    final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var all: [HashOutcome] = []
        private let signal = DispatchSemaphore(value: 0)
        func add(_ o: HashOutcome) { lock.withLock { all.append(o) }; signal.signal() }
        func wait(_ done: (HashOutcome) -> Bool) -> HashOutcome? {
            while true {
                if let o = lock.withLock({ all.first(where: done) }) { return o }
                guard signal.wait(timeout: .now() + 30) == .success else { return nil }
            }
        }
        func storedAtLeast(_ end: Int64) -> Bool {
            wait { if case .stored(let s) = $0 { return s >= end }; if case .failed = $0 { return true }; return false } != nil
        }
    }

    static func content(_ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) } }

    static func sha256(_ bytes: [UInt8]) -> String {
        let d = Digest(.sha256)
        d.update(bytes)
        return d.finalizeHex()
    }

    /// Feeds `bytes[from...]` through a window of `capacity` in pieces of `piece`, as the engine does:
    /// never more than the window holds past the stored prefix.
    static func feed(_ bytes: [UInt8], from: Int = 0, capacity: Int, piece: Int, content: any StagedContent,
                     onDisk: IntervalSet = IntervalSet(), direct: Bool = true, durable: Bool = true,
                     expected: ChunkDigests? = nil, corrupt: ByteRange? = nil) -> (Outcomes, FrontierHasher) {
        let outcomes = Outcomes()
        let window = FileWindow(capacity: capacity)
        let h = FrontierHasher(content: content, window: window, onDisk: onDisk, gitBlob: false, label: "t",
                               group: HashGroup(capacity: 1, label: "t"), durable: durable,
                               direct: direct, writeSize: 256 << 10, expected: expected) { outcomes.add($0) }
        var at = from
        var stored: Int64 = 0
        h.advance(to: Int64(from))
        while at < bytes.count {
            let n = min(piece, bytes.count - at)
            if Int64(at + n) > stored + Int64(capacity) {
                #expect(outcomes.storedAtLeast(Int64(at + n - capacity)), "the window moves on")
                stored = Int64(at + n - capacity)
            }
            var slice = Array(bytes[at..<(at + n)])
            if let c = corrupt, Int64(at) < c.end, Int64(at + n) > c.start { slice[max(0, Int(c.start) - at)] ^= 0xFF }
            slice.withUnsafeBytes { window.copy($0, at: Int64(at)) }
            at += n
            h.advance(to: Int64(at))
        }
        return (outcomes, h)
    }

    static func finished(_ o: Outcomes) -> HashOutcome? {
        o.wait { if case .stored = $0 { return false }; return true }
    }

    @Test func newBytesAreHashedInTheWindowNeverReadBackAndWrittenAlignedWithODirect() throws {
        let bytes = Self.content((5 << 20) + 123)
        let spy = Spy(size: Int64(bytes.count))
        let (o, _) = Self.feed(bytes, capacity: 1 << 20, piece: 100_000, content: spy)
        guard case .finished(let sha, _, _) = try #require(Self.finished(o)) else { Issue.record("not finished"); return }
        #expect(sha == Self.sha256(bytes))
        #expect(spy.bytes == bytes, "every byte stored at its offset")
        #expect(spy.reads.isEmpty, "nothing read back")
        #expect(spy.misaligned.isEmpty, "direct writes aligned: \(spy.misaligned)")
        #expect(spy.direct.reduce(0) { $0 + $1.count } == Int64(bytes.count) / 4096 * 4096)
        #expect(spy.buffered == [ByteRange(Int64(bytes.count) / 4096 * 4096, Int64(bytes.count))], "only the unaligned tail buffered")
        #expect(spy.syncs == 1, "made durable once, before the digest is reported")
    }

    @Test func whereTheFileSystemRefusesODirectEveryByteGoesThroughThePageCacheWithWriteback() throws {
        let bytes = Self.content(3 << 20)
        let spy = Spy(size: Int64(bytes.count), direct: nil)
        let (o, _) = Self.feed(bytes, capacity: 1 << 20, piece: 65_536, content: spy)
        guard case .finished(let sha, _, _) = try #require(Self.finished(o)) else { Issue.record("not finished"); return }
        #expect(sha == Self.sha256(bytes))
        #expect(spy.direct.isEmpty)
        #expect(spy.bytes == bytes)
        #expect(spy.writebacks > 0, "writeback started for each write when durable")
        #expect(spy.reads.isEmpty)
    }

    @Test func bufferedModeIsKeptOnRequestAndNoFsyncSkipsTheSync() throws {
        let bytes = Self.content(1 << 20)
        let spy = Spy(size: Int64(bytes.count))
        let (o, _) = Self.feed(bytes, capacity: 512 << 10, piece: 50_000, content: spy, direct: false, durable: false)
        guard case .finished = try #require(Self.finished(o)) else { Issue.record("not finished"); return }
        #expect(spy.direct.isEmpty && spy.bytes == bytes)
        #expect(spy.syncs == 0 && spy.writebacks == 0)
    }

    @Test func bytesAnEarlierRunLeftAreReadFromDiskAndNotWrittenAgain() throws {
        let bytes = Self.content(2 << 20)
        let kept = 700_001
        let spy = Spy(size: Int64(bytes.count), prefilled: Array(bytes[0..<kept]))
        let (o, _) = Self.feed(bytes, from: kept, capacity: 1 << 20, piece: 30_000, content: spy, onDisk: IntervalSet([ByteRange(0, Int64(kept))]))
        guard case .finished(let sha, _, _) = try #require(Self.finished(o)) else { Issue.record("not finished"); return }
        #expect(sha == Self.sha256(bytes))
        #expect(spy.reads.reduce(0) { $0 + $1.count } == Int64(kept), "exactly the leftover read back")
        #expect(!(spy.buffered + spy.direct).contains { $0.start < Int64(kept) }, "the leftover is not written again")
        #expect(spy.bytes == bytes && spy.misaligned.isEmpty)
    }

    @Test func aChunkThatFailsItsDigestNeverReachesTheDisk() throws {
        let cs: Int64 = 256 << 10
        let bytes = Self.content(Int(cs) * 3)
        let digests = (0..<3).map { i in Self.sha256(Array(bytes[(i * Int(cs))..<((i + 1) * Int(cs))])) }
        let spy = Spy(size: Int64(bytes.count))
        let bad = ByteRange(cs, 2 * cs)
        let (o, _) = Self.feed(bytes, capacity: 1 << 20, piece: 40_000, content: spy,
                               expected: ChunkDigests(chunkSize: cs, sha256: digests), corrupt: ByteRange(cs + 5, cs + 6))
        let failed = o.wait { if case .chunkFailed = $0 { return true }; return false }
        guard case .chunkFailed(let range) = try #require(failed) else { return }
        #expect(range == bad)
        #expect(o.storedAtLeast(cs), "the good chunk before it is stored")
        #expect(!(spy.buffered + spy.direct).contains { $0.end > cs }, "nothing of the bad chunk or after it written")
    }

    @Test func aPartialFileTakesAlignedDirectWritesOrSaysWhyNot() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let p = try PartialFile(directory: dir.path, etag: String(repeating: "e", count: 64), size: 3 * 4096 + 10)
        defer { p.close() }
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 4096)
        defer { block.deallocate() }
        for i in 0..<8192 { block[i] = UInt8(i % 251) }
        if p.directAlignment == nil {
            #expect(p.directRefusal?.contains("O_DIRECT") == true, "a reason for the log")
        }
        try p.writeDirect(UnsafeRawBufferPointer(block), at: 4096)
        let back = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 16)
        defer { back.deallocate() }
        #expect(try p.read(into: back, at: 4096) == 8192)
        #expect(Array(back) == Array(block), "direct bytes read back through the page cache")
    }
}
