internal import CCrypto

/// Ed25519 keys and signatures over libcrypto's EVP_PKEY API, stored as PEM files that
/// `openssl pkey` reads: PKCS#8 `PRIVATE KEY` for the secret half, SubjectPublicKeyInfo `PUBLIC KEY`
/// for the public half. Each key owns its `EVP_PKEY` and frees it in `deinit`.
public enum Ed25519 {
    /// A signature's size in bytes.
    public static let signatureSize = 64

    /// Why a key could not be made, read or used.
    public struct KeyError: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ what: String) { description = what + Ed25519.openSSLErrors() }
    }

    /// The secret half: signs.
    public final class PrivateKey: @unchecked Sendable {
        let pkey: OpaquePointer

        init(owning pkey: OpaquePointer) { self.pkey = pkey }
        deinit { EVP_PKEY_free(pkey) }

        /// A new random key.
        public static func generate() throws(KeyError) -> PrivateKey {
            guard let ctx = EVP_PKEY_CTX_new_id(hm_evp_pkey_ed25519(), nil) else { throw KeyError("EVP_PKEY_CTX_new_id failed") }
            defer { EVP_PKEY_CTX_free(ctx) }
            guard EVP_PKEY_keygen_init(ctx) == 1 else { throw KeyError("EVP_PKEY_keygen_init failed") }
            var out: OpaquePointer?
            guard EVP_PKEY_keygen(ctx, &out) == 1, let out else { throw KeyError("EVP_PKEY_keygen failed") }
            return PrivateKey(owning: out)
        }

        /// Reads a PEM `PRIVATE KEY` (unencrypted PKCS#8) holding an Ed25519 key.
        public convenience init(pem: [UInt8]) throws(KeyError) {
            let pkey = try Ed25519.withReadBIO(pem) { bio in PEM_read_bio_PrivateKey(bio, nil, nil, nil) }
            guard let pkey else { throw KeyError("not a PEM private key") }
            guard EVP_PKEY_get_id(pkey) == hm_evp_pkey_ed25519() else {
                EVP_PKEY_free(pkey)
                throw KeyError("the private key is not an Ed25519 key")
            }
            self.init(owning: pkey)
        }

        /// The key as PEM (PKCS#8, unencrypted: keep the file private).
        public func pem() throws(KeyError) -> [UInt8] {
            try Ed25519.writePEM { PEM_write_bio_PrivateKey($0, pkey, nil, nil, 0, nil, nil) }
        }

        /// The public half.
        public func publicKey() throws(KeyError) -> PublicKey {
            let raw = try Ed25519.rawPublic(pkey)
            return try PublicKey(raw: raw)
        }

        /// The Ed25519 signature of `message` (64 bytes).
        public func sign(_ message: [UInt8]) throws(KeyError) -> [UInt8] {
            guard let ctx = EVP_MD_CTX_new() else { throw KeyError("EVP_MD_CTX_new failed") }
            defer { EVP_MD_CTX_free(ctx) }
            guard EVP_DigestSignInit(ctx, nil, nil, nil, pkey) == 1 else { throw KeyError("EVP_DigestSignInit failed") }
            var sig = [UInt8](repeating: 0, count: Ed25519.signatureSize)
            var len = sig.count
            let ok = message.withUnsafeBufferPointer { m in EVP_DigestSign(ctx, &sig, &len, m.baseAddress, m.count) }
            guard ok == 1, len == Ed25519.signatureSize else { throw KeyError("EVP_DigestSign failed") }
            return sig
        }
    }

    /// The public half: verifies.
    public final class PublicKey: @unchecked Sendable, Equatable {
        let pkey: OpaquePointer
        /// The 32 raw key bytes.
        public let raw: [UInt8]

        init(raw: [UInt8]) throws(KeyError) {
            guard raw.count == 32,
                  let pkey = raw.withUnsafeBufferPointer({ EVP_PKEY_new_raw_public_key(hm_evp_pkey_ed25519(), nil, $0.baseAddress, $0.count) })
            else { throw KeyError("not a 32-byte Ed25519 public key") }
            self.pkey = pkey
            self.raw = raw
        }

        deinit { EVP_PKEY_free(pkey) }

        /// Reads a PEM `PUBLIC KEY` holding an Ed25519 key.
        public convenience init(pem: [UInt8]) throws(KeyError) {
            let pkey = try Ed25519.withReadBIO(pem) { bio in PEM_read_bio_PUBKEY(bio, nil, nil, nil) }
            guard let pkey else { throw KeyError("not a PEM public key") }
            defer { EVP_PKEY_free(pkey) }
            guard EVP_PKEY_get_id(pkey) == hm_evp_pkey_ed25519() else { throw KeyError("the public key is not an Ed25519 key") }
            try self.init(raw: try Ed25519.rawPublic(pkey))
        }

        /// The key as PEM (SubjectPublicKeyInfo).
        public func pem() throws(KeyError) -> [UInt8] {
            try Ed25519.writePEM { PEM_write_bio_PUBKEY($0, pkey) }
        }

        /// A short name for messages: the first 16 hex digits of the SHA-256 of the raw key.
        public var fingerprint: String { String(Digest.hex(.sha256, of: raw).prefix(16)) }

        /// True when `signature` is this key's Ed25519 signature of `message`.
        public func verify(_ signature: [UInt8], of message: [UInt8]) -> Bool {
            guard signature.count == Ed25519.signatureSize, let ctx = EVP_MD_CTX_new() else { return false }
            defer { EVP_MD_CTX_free(ctx) }
            guard EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 else { return false }
            let ok = signature.withUnsafeBufferPointer { s in
                message.withUnsafeBufferPointer { m in EVP_DigestVerify(ctx, s.baseAddress, s.count, m.baseAddress, m.count) }
            }
            ERR_clear_error()
            return ok == 1
        }

        public static func == (a: PublicKey, b: PublicKey) -> Bool { a.raw == b.raw }
    }

    static func rawPublic(_ pkey: OpaquePointer) throws(KeyError) -> [UInt8] {
        var raw = [UInt8](repeating: 0, count: 32)
        var len = raw.count
        guard EVP_PKEY_get_raw_public_key(pkey, &raw, &len) == 1, len == 32 else { throw KeyError("EVP_PKEY_get_raw_public_key failed") }
        return raw
    }

    static func withReadBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) -> T) throws(KeyError) -> T {
        let result: T? = bytes.withUnsafeBufferPointer { b in
            guard let bio = BIO_new_mem_buf(b.baseAddress, Int32(b.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
        guard let result else { throw KeyError("BIO_new_mem_buf failed") }
        return result
    }

    static func writePEM(_ write: (OpaquePointer) -> Int32) throws(KeyError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw KeyError("BIO_new failed") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw KeyError("PEM write failed") }
        var data: UnsafeMutablePointer<CChar>?
        let n = hm_bio_mem_data(bio, &data)
        guard n > 0, let data else { throw KeyError("PEM write produced nothing") }
        return data.withMemoryRebound(to: UInt8.self, capacity: n) { Array(UnsafeBufferPointer(start: $0, count: n)) }
    }

    /// libcrypto's queued error texts (then cleared), for a message.
    static func openSSLErrors() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buf, buf.count)
            parts.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")"
    }
}
