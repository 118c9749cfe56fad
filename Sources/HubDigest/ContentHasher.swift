/// Hashes a file's content as it streams by, producing everything the manifest and the
/// verification step need: SHA-256 of the content and the git blob id (`sha1("blob <size>\0" + bytes)`).
public final class ContentHasher: @unchecked Sendable {
    private let sha256: Digest
    private let gitSHA1: Digest?
    public private(set) var bytesHashed: Int64 = 0
    public let expectedSize: Int64

    /// - Parameters:
    ///   - size: the full content size (part of the git blob header).
    ///   - gitBlob: also compute the git blob id (needed to verify non-LFS files).
    public init(size: Int64, gitBlob: Bool) {
        sha256 = Digest(.sha256)
        expectedSize = size
        if gitBlob {
            let d = Digest(.sha1)
            d.update(Array("blob \(size)\0".utf8))
            gitSHA1 = d
        } else {
            gitSHA1 = nil
        }
    }

    private init(sha256: Digest, gitSHA1: Digest?, bytesHashed: Int64, expectedSize: Int64) {
        self.sha256 = sha256
        self.gitSHA1 = gitSHA1
        self.bytesHashed = bytesHashed
        self.expectedSize = expectedSize
    }

    /// An independent hasher in the same state (to go back to this point if what follows is bad).
    public func copy() -> ContentHasher {
        ContentHasher(sha256: sha256.copy(), gitSHA1: gitSHA1?.copy(), bytesHashed: bytesHashed, expectedSize: expectedSize)
    }

    public func update(_ buffer: UnsafeRawBufferPointer) {
        sha256.update(buffer)
        gitSHA1?.update(buffer)
        bytesHashed += Int64(buffer.count)
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The final digests. Call once.
    public func finish() -> (sha256: String, gitBlobID: String?) {
        (sha256.finalizeHex(), gitSHA1?.finalizeHex())
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
