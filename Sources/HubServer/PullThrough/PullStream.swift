internal import Foundation
#if canImport(Glibc)
internal import Glibc
#endif
internal import HubCore
internal import Hummingbird
internal import Logging
internal import NIOCore
internal import NIOPosix

/// Streams a byte range of a file while a pull-through fetch is still writing it, so the first bytes
/// reach the client long before a large file is complete (the official client gives up after 10 s
/// without a byte).
///
/// Bytes go out as the fetch's contiguous written prefix grows. The file's last byte is held back
/// until the whole file is verified: a client can never receive a complete body whose digest is
/// wrong. If verification fails, or the fetch restarts after a mismatch once bytes were sent, the
/// connection is cut short of `Content-Length`, which every HTTP client reports as an error.
struct PullStream: Sendable {
    let progress: PullProgress
    /// Where the verified file will be (and is, once `outcome` is `.verified`).
    let blob: String
    let range: ClosedRange<Int64>
    let size: Int64
    let label: String
    let logger: Logger
    /// Told when a stream is cut after bytes of a copy that then failed verification went out.
    let onBadBytesSent: @Sendable () -> Void

    struct Cut: Error, CustomStringConvertible {
        var description: String
    }

    func write(to writer: inout any ResponseBodyWriter) async throws {
        let end = range.upperBound + 1
        let holdBack: Int64 = end == size ? 1 : 0
        var next = range.lowerBound
        var generation: Int?
        var version = -1
        let file = OpenFile()
        defer { file.close() }
        while next < end {
            let s = await progress.next(after: version)
            version = s.version
            if let g = generation, g != s.generation, next > range.lowerBound {
                onBadBytesSent()
                throw cut("the upstream copy failed verification and is being fetched again")
            }
            generation = s.generation
            let limit: Int64
            switch s.outcome {
            case .failed(let e):
                if next > range.lowerBound { onBadBytesSent() }
                throw cut("the fetch failed: \(e)")
            case .verified:
                limit = end
                if !file.isOpen, !file.open(blob) { throw cut("verified file \(blob) cannot be opened") }
            case nil:
                limit = min(s.prefix, end - holdBack)
                guard limit > next else { continue }
                // The partial file becomes the blob by rename when verified; either name holds these bytes.
                if !file.isOpen, !(s.partialPath.map(file.open) ?? false), !file.open(blob) { continue }
            }
            while next < limit {
                let chunk = try await file.read(at: next, count: Int(min(1 << 20, limit - next)))
                guard chunk.readableBytes > 0 else { throw cut("file ended at byte \(next)") }
                next += Int64(chunk.readableBytes)
                try await writer.write(chunk)
            }
        }
        try await writer.finish(nil)
    }

    func cut(_ why: String) -> Cut {
        logger.warning("pull-through stream cut short", metadata: ["file": "\(label)", "reason": "\(why)"])
        return Cut(description: "\(label): \(why)")
    }
}

/// A read-only descriptor shared by one streaming response.
final class OpenFile: @unchecked Sendable {
    private var fd: Int32 = -1

    var isOpen: Bool { fd >= 0 }

    func open(_ path: String) -> Bool {
        fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        return fd >= 0
    }

    /// Up to `count` bytes at `offset`, read on the blocking-I/O pool.
    func read(at offset: Int64, count: Int) async throws -> ByteBuffer {
        let fd = self.fd
        return try await NIOThreadPool.singleton.runIfActive {
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw -> Int in
                while true {
                    let r = pread(fd, raw.baseAddress, count, off_t(offset))
                    if r < 0 && errno == EINTR { continue }
                    return max(0, r)
                }
            }
            _ = n
            return buffer
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
