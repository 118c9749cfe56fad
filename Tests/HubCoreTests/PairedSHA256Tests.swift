import Testing
import HubDigest

/// The paired SHA-256 kernels against libcrypto: every split of every length gives libcrypto's digest,
/// and two messages hashed side by side give what each gives alone.
@Suite struct PairedSHA256Tests {
    /// A deterministic byte stream (xorshift), so a failure can be reproduced.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var x = seed | 1
        return (0..<count).map { _ in
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            return UInt8(truncatingIfNeeded: x)
        }
    }

    static func libcrypto(_ b: ArraySlice<UInt8>) -> String { Digest.hex(.sha256, of: b) }

    @Test func pairingIsAvailableOnACPUWithTheSHAExtensions() throws {
        // Where the CPU has them the kernels must pass their self-test; elsewhere nothing can be paired.
        let cpuHasSHA = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.contains(" sha_ni") ?? false
        #expect(ContentHasher.pairingAvailable == cpuHasSHA)
    }

    @Test func aPairableHasherGivesLibcryptosDigestForEveryLengthAndSplit() {
        var seed: UInt64 = 7
        for length in Array(0...200) + [255, 256, 1000, 4095, 4096, 65_537, 1 << 20] {
            let data = Self.bytes(length, seed: UInt64(length) + 1)
            let h = ContentHasher(size: Int64(length), gitBlob: false, pairable: true)
            var at = 0
            while at < length {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let n = min(length - at, Int(seed >> 33) % 300 + 1)
                data[at..<(at + n)].withUnsafeBytes { h.update($0) }
                at += n
            }
            #expect(h.bytesHashed == Int64(length))
            #expect(h.finish().sha256 == Self.libcrypto(data[...]), "length \(length)")
        }
    }

    @Test func twoMessagesSideBySideGiveWhatEachGivesAlone() throws {
        try #require(ContentHasher.pairingAvailable, "needs the SHA extensions")
        let a = Self.bytes(3 << 20, seed: 11), b = Self.bytes((3 << 20) + 77, seed: 12)
        let x = ContentHasher(size: Int64(a.count), gitBlob: false, pairable: true)
        let y = ContentHasher(size: Int64(b.count), gitBlob: false, pairable: true)
        // Paired pieces of several sizes, then each message's rest alone.
        var at = 0
        for n in [64, 4096, 1 << 20, 640, 1 << 20] {
            #expect(x.canPair && y.canPair)
            let ok = a[at..<(at + n)].withUnsafeBytes { pa in b[at..<(at + n)].withUnsafeBytes { pb in ContentHasher.updatePaired(x, pa, y, pb) } }
            #expect(ok)
            at += n
        }
        a[at...].withUnsafeBytes { x.update($0) }
        b[at...].withUnsafeBytes { y.update($0) }
        #expect(x.bytesHashed == Int64(a.count) && y.bytesHashed == Int64(b.count))
        #expect(x.finish().sha256 == Self.libcrypto(a[...]))
        #expect(y.finish().sha256 == Self.libcrypto(b[...]))
    }

    @Test func pairingIsRefusedOffABlockBoundaryOrForUnequalPieces() throws {
        try #require(ContentHasher.pairingAvailable, "needs the SHA extensions")
        let a = Self.bytes(256, seed: 3)
        let x = ContentHasher(size: 256, gitBlob: false, pairable: true)
        let y = ContentHasher(size: 256, gitBlob: false, pairable: true)
        a[0..<10].withUnsafeBytes { x.update($0) }
        #expect(!x.canPair && y.canPair)
        let offBoundary = a[10..<74].withUnsafeBytes { pa in a[0..<64].withUnsafeBytes { pb in ContentHasher.updatePaired(x, pa, y, pb) } }
        let unequal = a[0..<64].withUnsafeBytes { pa in a[0..<128].withUnsafeBytes { pb in ContentHasher.updatePaired(y, pb, x, pa) } }
        let notWholeBlocks = a[0..<30].withUnsafeBytes { pa in ContentHasher.updatePaired(y, pa, y, pa) }
        #expect(!offBoundary && !unequal && !notWholeBlocks)
        #expect(x.bytesHashed == 10 && y.bytesHashed == 0, "nothing hashed by a refused call")
        let libcryptoHasher = ContentHasher(size: 256, gitBlob: false)
        #expect(!libcryptoHasher.canPair, "only pairable hashers pair")
        let withGitID = ContentHasher(size: 256, gitBlob: true, pairable: true)
        #expect(!withGitID.canPair, "a git blob id is computed over the same bytes: not pairable")
    }

    @Test func aCopyGoesOnIndependently() {
        let a = Self.bytes(1000, seed: 5)
        let x = ContentHasher(size: 1000, gitBlob: false, pairable: true)
        a[0..<500].withUnsafeBytes { x.update($0) }
        let y = x.copy()
        a[500...].withUnsafeBytes { x.update($0) }
        a[500...].withUnsafeBytes { y.update($0) }
        #expect(x.finish().sha256 == Self.libcrypto(a[...]))
        #expect(y.finish().sha256 == Self.libcrypto(a[...]))
    }
}
