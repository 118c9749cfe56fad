import Foundation
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
    private let onFinish: @Sendable (Result<(sha256: String, gitBlobID: String?), HubError>) -> Void

    init(path: String, size: Int64, gitBlob: Bool, label: String,
         onFinish: @escaping @Sendable (Result<(sha256: String, gitBlobID: String?), HubError>) -> Void) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw HubError(.store, "cannot open \(path) for hashing: \(String(cString: strerror(errno)))") }
        self.size = size
        hasher = ContentHasher(size: size, gitBlob: gitBlob)
        queue = DispatchQueue(label: "hubmirror.hash.\(label)")
        self.onFinish = onFinish
        if size == 0 { advance(to: 0, force: true) }
    }

    deinit { close(fd) }

    /// Asks for hashing up to `end` (the contiguous written prefix). Cheap; work happens on the queue.
    func advance(to end: Int64, force: Bool = false) {
        guard end > requestedTo || force else { return }
        requestedTo = end
        queue.async { [self] in work(upTo: end) }
    }

    func cancel() { queue.sync { cancelled = true } }

    private func work(upTo end: Int64) {
        guard !cancelled else { return }
        let bufSize = 4 << 20
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bufSize, alignment: 4096)
        defer { buf.deallocate() }
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
            hashedTo += Int64(n)
        }
        if hashedTo == size && !cancelled {
            cancelled = true
            let d = hasher.finish()
            onFinish(.success(d))
        }
    }
}
