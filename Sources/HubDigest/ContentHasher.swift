/// Hashes a file's content as it streams by, producing everything the manifest and the
/// verification step need: SHA-256 of the content and the git blob id (`sha1("blob <size>\0" + bytes)`).
public final class ContentHasher: @unchecked Sendable {
    /// Where the SHA-256 is computed: libcrypto, or (pairable hashers) the paired kernels.
    private enum SHA256State {
        case libcrypto(Digest)
        case paired(PairedSHA256)
    }

    private var sha256: SHA256State
    private let gitSHA1: Digest?
    public private(set) var bytesHashed: Int64 = 0
    public let expectedSize: Int64

    /// - Parameters:
    ///   - size: the full content size (part of the git blob header).
    ///   - gitBlob: also compute the git blob id (needed to verify non-LFS files).
    ///   - pairable: hash on the kernels that can take two hashers' bytes at once (`updatePaired`),
    ///     where this machine has them (`pairingAvailable`) and no git blob id is asked for.
    public init(size: Int64, gitBlob: Bool, pairable: Bool = false) {
        sha256 = pairable && !gitBlob && PairedSHA256.isAvailable ? .paired(PairedSHA256()) : .libcrypto(Digest(.sha256))
        expectedSize = size
        if gitBlob {
            let d = Digest(.sha1)
            d.update(Array("blob \(size)\0".utf8))
            gitSHA1 = d
        } else {
            gitSHA1 = nil
        }
    }

    private init(sha256: SHA256State, gitSHA1: Digest?, bytesHashed: Int64, expectedSize: Int64) {
        self.sha256 = sha256
        self.gitSHA1 = gitSHA1
        self.bytesHashed = bytesHashed
        self.expectedSize = expectedSize
    }

    /// An independent hasher in the same state (to go back to this point if what follows is bad).
    public func copy() -> ContentHasher {
        let state: SHA256State
        switch sha256 {
        case .libcrypto(let d): state = .libcrypto(d.copy())
        case .paired(let p): state = .paired(p)
        }
        return ContentHasher(sha256: state, gitSHA1: gitSHA1?.copy(), bytesHashed: bytesHashed, expectedSize: expectedSize)
    }

    public func update(_ buffer: UnsafeRawBufferPointer) {
        switch sha256 {
        case .libcrypto(let d): d.update(buffer)
        case .paired(var p):
            p.update(buffer)
            sha256 = .paired(p)
        }
        gitSHA1?.update(buffer)
        bytesHashed += Int64(buffer.count)
    }

    /// True when this machine can hash two pairable hashers' bytes at once (SHA-NI, self-test passed).
    public static var pairingAvailable: Bool { PairedSHA256.isAvailable }

    /// True when this hasher computes its SHA-256 on the kernels that can pair two hashers.
    public var isPairable: Bool {
        if case .paired = sha256 { return true }
        return false
    }

    /// True when `updatePaired` can take this hasher now: it is pairable and its bytes so far fill
    /// whole 64-byte blocks.
    public var canPair: Bool {
        if case .paired(let p) = sha256 { return p.isBlockAligned }
        return false
    }

    /// Hashes `a`'s next bytes into `x` and `b`'s into `y` at once (SHA-256 only: pairable hashers
    /// compute no git blob id). Both must `canPair`, and the buffers be of one length, a multiple of
    /// 64 bytes; false, with nothing hashed, otherwise.
    public static func updatePaired(_ x: ContentHasher, _ a: UnsafeRawBufferPointer, _ y: ContentHasher, _ b: UnsafeRawBufferPointer) -> Bool {
        guard x !== y, case .paired(var p) = x.sha256, case .paired(var q) = y.sha256,
              PairedSHA256.update(&p, a, &q, b) else { return false }
        x.sha256 = .paired(p)
        y.sha256 = .paired(q)
        x.bytesHashed += Int64(a.count)
        y.bytesHashed += Int64(b.count)
        return true
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The final digests. Call once.
    public func finish() -> (sha256: String, gitBlobID: String?) {
        let hex: String
        switch sha256 {
        case .libcrypto(let d): hex = d.finalizeHex()
        case .paired(var p): hex = p.finalizeHex()
        }
        return (hex, gitSHA1?.finalizeHex())
    }

    /// The git blob id of a whole in-memory content.
    public static func gitBlobID(of bytes: [UInt8]) -> String {
        let h = ContentHasher(size: Int64(bytes.count), gitBlob: true)
        h.update(bytes)
        return h.finish().gitBlobID!
    }

    /// The git-lfs pointer text for a content of this sha256 and size.
    public static func lfsPointer(sha256: String, size: Int64) -> String {
        "version https://git-lfs.github.com/spec/v1\noid sha256:\(sha256)\nsize \(size)\n"
    }
}
