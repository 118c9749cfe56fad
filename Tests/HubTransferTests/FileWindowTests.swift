import HubCore
@testable import HubTransfer
import Testing

/// The window's one copy of every byte (non-temporal stores, huge-page mapping): every length and
/// offset lands exactly, including unaligned heads, short tails, small copies and the ring's wrap.
@Suite struct FileWindowTests {
    static func bytes(_ n: Int, seed: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: ($0 &+ seed) &* 131 &+ $0 >> 7) } }

    @Test(arguments: [FileWindow.hugePage * 2, 64 << 10])
    func copiesLandExactlyAtEveryOffsetAndLength(capacity: Int) {
        let w = FileWindow(capacity: capacity)
        var mirror = [UInt8](repeating: 0, count: capacity)
        var offset: Int64 = 0
        // Lengths around the small-copy cut-off and the 16- and 64-byte store sizes, at odd offsets.
        for (i, n) in [1, 15, 16, 17, 63, 64, 65, 4095, 4096, 4097, 10_000, 65_537, 300_001].enumerated() {
            let piece = Self.bytes(min(n, capacity), seed: i)
            piece.withUnsafeBytes { w.copy($0, at: offset) }
            for (k, b) in piece.enumerated() { mirror[Int((offset + Int64(k)) % Int64(capacity))] = b }
            offset += Int64(piece.count) + 3
        }
        var seen = [UInt8]()
        for s in w.slices(ByteRange(0, Int64(capacity))) { seen += UnsafeRawBufferPointer(s) }
        #expect(seen == mirror, "offset reached \(offset), past the ring's wrap")
    }

    @Test func largeWindowsStartOnAHugePageBoundary() throws {
        let w = FileWindow(capacity: FileWindow.hugePage)
        let base = try #require(w.slices(ByteRange(0, 1)).first?.baseAddress)
        #expect(Int(bitPattern: base) % FileWindow.hugePage == 0)
    }
}
