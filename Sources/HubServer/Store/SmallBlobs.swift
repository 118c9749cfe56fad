internal import HubCore
internal import HubDigest
internal import NIOCore
internal import NIOPosix
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The bytes of small blobs (config, tokenizer, index files) kept in memory, so that a `GET` of one
/// costs no trip to the file thread pool. Blobs are named by their content hash: an entry is filled
/// only after the bytes read from disk hash to the name, so what is served from here is exactly what
/// the blob must hold, however long it is kept. Whether the blob is still in the repo is checked by
/// the caller on every request, as for any other file.
final class SmallBlobs: Sendable {
    /// Files up to this size are kept (the size below which bodies are not sent with sendfile).
    static let maxFileSize = 64 << 10

    private let budget: Int
    private let entries = Locked<(bytes: Int, map: [String: ByteBuffer])>((0, [:]))

    init(budget: Int = 64 << 20) { self.budget = budget }

    /// The verified bytes of `etag` (`size` bytes), reading and checking the blob at `path` on first use;
    /// nil when the file cannot be read or does not hash to `etag` (then the caller serves it as before).
    func bytes(etag: String, size: Int64, path: String) async -> ByteBuffer? {
        guard size <= Self.maxFileSize else { return nil }
        if let hit = entries.withLock({ $0.map[etag] }) { return hit }
        let read = try? await NIOThreadPool.singleton.runIfActive { Self.readVerified(path, etag: etag, size: Int(size)) }
        guard let bytes = read ?? nil else { return nil }
        let buffer = ByteBuffer(bytes: bytes)
        entries.withLock { e in
            if e.bytes + bytes.count > budget { e = (0, [:]) }
            if e.map.updateValue(buffer, forKey: etag) == nil { e.bytes += bytes.count }
        }
        return buffer
    }

    private static func readVerified(_ path: String, etag: String, size: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: size + 1)
        var got = 0
        while got <= size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, size + 1 - got) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            got += n
        }
        guard got == size else { return nil }
        bytes.removeLast()
        let digest = etag.utf8.count == 64 ? Digest.hex(.sha256, of: bytes) : ContentHasher.gitBlobID(of: bytes)
        return digest == etag ? bytes : nil
    }
}
