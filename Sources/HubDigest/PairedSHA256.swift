internal import CSHA256

/// SHA-256 on this package's SHA-NI kernels (`CSHA256`) instead of libcrypto: the one implementation
/// here that can hash two messages at once, at nearly twice the bytes per cycle of one. Used only by
/// `ContentHasher`s made `pairable`, and only where the CPU has the SHA extensions and the kernels
/// passed their known-answer test in this process; everywhere else SHA-256 is libcrypto's.
struct PairedSHA256 {
    /// True when the kernels may be used on this machine (checked once per process).
    static let isAvailable: Bool = hm_sha256_ni_selftest() == 1

    private var ctx = hm_sha256_ctx()

    init() { hm_sha256_init(&ctx) }

    /// True when the bytes hashed so far fill whole blocks: the state can be paired with another.
    var isBlockAligned: Bool { ctx.used == 0 }

    mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        hm_sha256_update(&ctx, base, buffer.count)
    }

    /// Hashes `a`'s next bytes into `x` and `b`'s into `y`, two messages at once. Both states block
    /// aligned, both buffers the same length, a multiple of 64; false (nothing hashed) otherwise.
    static func update(_ x: inout PairedSHA256, _ a: UnsafeRawBufferPointer, _ y: inout PairedSHA256, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard a.count > 0 else { return true }
        return hm_sha256_update2(&x.ctx, a.baseAddress!, &y.ctx, b.baseAddress!, a.count) == 1
    }

    /// Finishes and returns lowercase hex. The state cannot be fed afterwards.
    mutating func finalizeHex() -> String {
        var out = [UInt8](repeating: 0, count: 32)
        hm_sha256_final(&ctx, &out)
        return Hex.encode(out)
    }
}
