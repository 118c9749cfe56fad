import Foundation
internal import CFileShims
#if canImport(Glibc)
import Glibc
#endif
import HubCore
import HubDigest

/// Hashes a partial file from byte 0 up to the end of its contiguous written prefix, on its own
/// queue, as the prefix grows. Data is read back with `pread` right after it was written, so it
/// comes from the page cache: no second pass over the disk. On resume the journaled prefix is
/// simply hashed again, which is why no hash state needs to survive a crash.
final class FrontierHasher: @unchecked Sendable {
    private let queue: DispatchQueue
    private let fd: Int32
    private let hasher: ContentHasher
    private let size: Int64
    private var hashedTo: Int64 = 0
    private var requestedTo: Int64 = 0   // touched only on the engine thread
    private var cancelled = false
    /// Read buffer, reused for the life of the hasher.
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    private let onFinish: @Sendable (Result<(sha256: String, gitBlobID: String?), HubError>) -> Void
    /// Told the new end of the hashed prefix after each read (on the hasher's queue).
    private let onProgress: @Sendable (Int64) -> Void

    /// Write the data to disk as it is hashed, and `fdatasync` before reporting the digest.
    private let durable: Bool

    init(path: String, size: Int64, gitBlob: Bool, label: String, durable: Bool = true,
         onProgress: @escaping @Sendable (Int64) -> Void = { _ in },
         onFinish: @escaping @Sendable (Result<(sha256: String, gitBlobID: String?), HubError>) -> Void) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw HubError(.store, "cannot open \(path) for hashing: \(String(cString: strerror(errno)))") }
        self.size = size
        self.durable = durable
        hasher = ContentHasher(size: size, gitBlob: gitBlob)
        queue = DispatchQueue(label: "hubmirror.hash.\(label)")
        self.onFinish = onFinish
        self.onProgress = onProgress
        if size == 0 { advance(to: 0, force: true) }
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    /// Asks for hashing up to `end` (the contiguous written prefix). Cheap; work happens on the queue.
    func advance(to end: Int64, force: Bool = false) {
        guard end > requestedTo || force else { return }
        requestedTo = end
        queue.async { [self] in work(upTo: end) }
    }

    func cancel() { queue.sync { cancelled = true } }

    private func work(upTo end: Int64) {
        guard !cancelled else { return }
        let buf = buffer
        let bufSize = buf.count
        while hashedTo < end && !cancelled {
            let want = Int(min(Int64(bufSize), end - hashedTo))
            let n = pread(fd, buf.baseAddress, want, off_t(hashedTo))
            if n < 0 {
                if errno == EINTR { continue }
                cancelled = true
                onFinish(.failure(HubError(.store, "read error while hashing: \(String(cString: strerror(errno)))")))
                return
            }
            if n == 0 {
                cancelled = true
                onFinish(.failure(HubError(.store, "partial file is shorter than its journal says")))
                return
            }
            hasher.update(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
            // Start writeback of what was just hashed, so the final fdatasync waits only for the tail
            // and disk writes overlap the download instead of following it.
            if durable { _ = hm_start_writeback(fd, hashedTo, Int64(n)) }
            hashedTo += Int64(n)
            onProgress(hashedTo)
        }
        if hashedTo == size && !cancelled {
            cancelled = true
            // Durable before it can be published; done here so the transfer thread never blocks on the disk.
            if durable && fdatasync(fd) != 0 {
                onFinish(.failure(HubError(.store, "cannot flush partial file to disk: \(String(cString: strerror(errno)))")))
                return
            }
            let d = hasher.finish()
            onFinish(.success(d))
        }
    }
}
