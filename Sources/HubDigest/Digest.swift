internal import CCrypto

/// A running message digest over OpenSSL's EVP API. Owns its `EVP_MD_CTX` and frees it in `deinit`.
/// Not thread-safe: feed it from one thread at a time.
public final class Digest: @unchecked Sendable {
    /// The algorithms hubmirror uses.
    public enum Algorithm: Sendable {
        case sha256, sha1
    }

    public let algorithm: Algorithm
    private let ctx: OpaquePointer

    public init(_ algorithm: Algorithm) {
        self.algorithm = algorithm
        guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
        self.ctx = ctx
        let md: OpaquePointer? = algorithm == .sha256 ? EVP_sha256() : EVP_sha1()
        precondition(EVP_DigestInit_ex(ctx, md, nil) == 1, "EVP_DigestInit_ex failed")
    }

    private init(copying other: Digest) {
        algorithm = other.algorithm
        guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
        self.ctx = ctx
        precondition(EVP_MD_CTX_copy_ex(ctx, other.ctx) == 1, "EVP_MD_CTX_copy_ex failed")
    }

    deinit { EVP_MD_CTX_free(ctx) }

    /// An independent digest in the same state (to go back to this point later).
    public func copy() -> Digest { Digest(copying: self) }

    public func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        precondition(EVP_DigestUpdate(ctx, base, buffer.count) == 1, "EVP_DigestUpdate failed")
    }

    public func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// Finishes and returns lowercase hex. The digest cannot be fed afterwards.
    public func finalizeHex() -> String {
        var out = [UInt8](repeating: 0, count: Int(hm_evp_max_md_size()))
        var len: UInt32 = 0
        precondition(EVP_DigestFinal_ex(ctx, &out, &len) == 1, "EVP_DigestFinal_ex failed")
        return Hex.encode(out[0..<Int(len)])
    }

    /// One-shot helper.
    public static func hex<Bytes: Sequence>(_ algorithm: Algorithm, of bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let d = Digest(algorithm)
        d.update(bytes)
        return d.finalizeHex()
    }
}

/// Lowercase hex encoding.
public enum Hex {
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
