import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import HubCore
import HubStore

/// A file or pipe read front to back: what a tar reader pulls bytes from. Skips by seeking when
/// the descriptor is a regular file, by reading otherwise (a pipe, stdin).
public final class InputStream: @unchecked Sendable {
    public let fd: Int32
    /// The name messages use: the path, or "stdin".
    public let name: String
    public let seekable: Bool
    /// Bytes consumed so far (the offset of the next byte).
    public private(set) var offset: Int64 = 0
    private let ownsFD: Bool

    /// Opens `path` for reading; `-` is stdin.
    public init(path: String) throws(HubError) {
        if path == "-" {
            fd = 0
            name = "stdin"
            ownsFD = false
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            name = path
            ownsFD = true
            if fd < 0 {
                let e = errno
                if e == ENOENT { throw HubError(.usage, "bundle \(path) does not exist") }
                throw FS.error("open", path, errno: e)
            }
        }
        var st = stat()
        seekable = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    deinit { if ownsFD { close(fd) } }

    /// Reads up to `buffer.count` bytes; 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(HubError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 {
                offset += Int64(n)
                return n
            }
            if errno != EINTR { throw FS.error("read", name) }
        }
    }

    /// Fills `buffer` completely; returns how many bytes it got before end of file.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(HubError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Moves `count` bytes ahead without handing them to anyone; returns how many it could skip
    /// before end of file. Regular files seek (the bytes are not read at all).
    public func skip(_ count: Int64, scratch: UnsafeMutableRawBufferPointer) throws(HubError) -> Int64 {
        if seekable {
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw FS.error("stat", name) }
            let left = max(0, Int64(st.st_size) - offset)
            let n = min(count, left)
            if lseek(fd, off_t(offset + n), SEEK_SET) < 0 { throw FS.error("seek in", name) }
            offset += n
            return n
        }
        var done: Int64 = 0
        while done < count {
            let want = Int(min(Int64(scratch.count), count - done))
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<want]))
            if n == 0 { break }
            done += Int64(n)
        }
        return done
    }
}

/// A file or stdout written front to back through a buffer.
public final class OutputStream: @unchecked Sendable {
    public let fd: Int32
    public let name: String
    public private(set) var offset: Int64 = 0
    private let ownsFD: Bool
    private var buffer: [UInt8] = []
    private let capacity = 1 << 20

    /// Creates (truncates) `path`; `-` is stdout.
    public init(path: String) throws(HubError) {
        if path == "-" {
            fd = 1
            name = "stdout"
            ownsFD = false
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            name = path
            ownsFD = true
            if fd < 0 { throw FS.error("create", path) }
        }
        buffer.reserveCapacity(capacity)
    }

    deinit { if ownsFD { close(fd) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(HubError) {
        if buffer.count + bytes.count > capacity { try flush() }
        if bytes.count >= capacity {
            try writeThrough(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
        offset += Int64(bytes.count)
    }

    public func write(_ bytes: [UInt8]) throws(HubError) {
        try withBytes(bytes) { (b) throws(HubError) in try write(b) }
    }

    public func flush() throws(HubError) {
        guard !buffer.isEmpty else { return }
        try withBytes(buffer) { (b) throws(HubError) in try writeThrough(b) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeThrough(_ bytes: UnsafeRawBufferPointer) throws(HubError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FS.error("write", name)
            }
            done += n
        }
    }

    /// Copies up to `count` bytes of the file `source` from `offset` straight to this stream with
    /// `sendfile` (no copy through user space); returns how many it copied, which is less when the
    /// kernel cannot send this pair (then the caller copies the rest itself).
    public func sendFile(_ source: Int32, offset: Int64, count: Int64) throws(HubError) -> Int64 {
        try flush()
        var off = off_t(offset)
        var done: Int64 = 0
        while done < count {
            let n = Glibc.sendfile(fd, source, &off, Int(min(count - done, 1 << 30)))
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == EINVAL || errno == ENOSYS { break }
                throw FS.error("write", name)
            }
            if n == 0 { break }
            done += Int64(n)
        }
        self.offset += done
        return done
    }

    /// Flushes and makes the file durable (stdout: flush only).
    public func finish(durable: Bool) throws(HubError) {
        try flush()
        if durable && ownsFD && fsync(fd) != 0 { throw FS.error("fsync", name) }
    }
}

/// `withUnsafeBytes` for a body that throws `HubError` (the standard one rethrows untyped errors).
func withBytes(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(HubError) -> Void) throws(HubError) {
    var failure: HubError?
    bytes.withUnsafeBytes { b in
        do throws(HubError) { try body(b) } catch { failure = error }
    }
    if let failure { throw failure }
}
