import Foundation
internal import CFileShims
#if canImport(Glibc)
import Glibc
#endif
public import HubCore

/// Staged content as a preallocated partial file `<etag>.part` beside its resume journal
/// `<etag>.journal`, in a sink's partial folder. The one place that names these files.
public final class PartialFile: StagedContent, @unchecked Sendable {
    /// The partial file's name for content `etag`.
    public static func dataName(_ etag: String) -> String { etag + ".part" }
    /// The journal's name for content `etag`.
    public static func journalName(_ etag: String) -> String { etag + ".journal" }
    /// The content a partial file name stands for, or nil for another file.
    public static func etag(ofDataName name: String) -> String? {
        name.hasSuffix(".part") ? String(name.dropLast(5)) : nil
    }

    public let path: String
    public let size: Int64
    public private(set) var resumed = IntervalSet()
    let journalFile: ResumeJournal
    private var fd: Int32 = -1
    /// The same file opened with O_DIRECT, when the file system allows it.
    private var directFD: Int32 = -1
    public private(set) var directAlignment: Int?
    public private(set) var directRefusal: String?
    /// 4 KiB: the largest logical block size in common use, so valid for 512-byte devices as well.
    public static let directBlock = 4096

    /// Opens (or creates and preallocates) the partial file of `etag` in `directory`, resuming its
    /// journal when the file still has its full size.
    public init(directory: String, etag: String, size: Int64) throws(HubError) {
        path = directory + "/" + Self.dataName(etag)
        self.size = size
        journalFile = ResumeJournal(path: directory + "/" + Self.journalName(etag), etag: etag, size: size)
        do { try FS.mkdirs(directory) } catch { throw Self.hubError(error, "create", directory) }
        let resumable = FS.fileSize(path) == size
        do { try journalFile.open(fresh: !resumable) } catch { throw Self.hubError(error, "open journal", journalFile.path) }
        resumed = resumable ? journalFile.recorded : IntervalSet()
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw FS.error("create partial file", path) }
        if !resumable { try allocate() }
        openDirect()
    }

    private func openDirect() {
        directFD = hm_open_direct(path)
        if directFD >= 0 {
            directAlignment = Self.directBlock
        } else {
            directRefusal = "the file system of \(path) refuses O_DIRECT (\(String(cString: strerror(errno))))"
        }
    }

    deinit { close() }

    static func hubError(_ e: any Error, _ op: String, _ path: String) -> HubError {
        (e as? HubError) ?? HubError(.store, "cannot \(op) \(path): \(e)", cause: .init(e, operation: op, path: path))
    }

    private func allocate() throws(HubError) {
        if ftruncate(fd, 0) != 0 { throw FS.error("truncate", path) }
        guard size > 0 else { return }
        let rc = posix_fallocate(fd, 0, off_t(size))
        if rc == ENOSPC { throw FS.error("preallocate \(ByteSize.format(size)) for", path, errno: rc) }
        if rc != 0 && ftruncate(fd, off_t(size)) != 0 { throw FS.error("size", path) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(HubError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FS.error("write", path)
            }
            done += n
        }
    }

    public func writeDirect(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(HubError) {
        guard directFD >= 0 else { return try write(bytes, at: offset) }
        var done = 0
        while done < bytes.count {
            let n = pwrite(directFD, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EINVAL {
                    // Opened, but the file system refuses these writes (alignment, or no O_DIRECT after all).
                    directRefusal = "the file system of \(path) refuses O_DIRECT writes (\(String(cString: strerror(errno))))"
                    Glibc.close(directFD)
                    directFD = -1
                    directAlignment = nil
                    return try write(UnsafeRawBufferPointer(rebasing: bytes[done...]), at: offset + Int64(done))
                }
                throw FS.error("write", path)
            }
            done += n
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(HubError) -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw FS.error("read back", path) }
        }
    }

    public func journal(_ ranges: IntervalSet) throws(HubError) {
        do { try journalFile.append(ranges.ranges) } catch { throw Self.hubError(error, "write journal", journalFile.path) }
    }

    public func rewriteJournal(_ ranges: IntervalSet) throws(HubError) {
        do {
            try journalFile.open(fresh: true)
            try journalFile.append(ranges.ranges)
        } catch { throw Self.hubError(error, "rewrite journal", journalFile.path) }
    }

    public func restart() throws(HubError) {
        do { try journalFile.open(fresh: true) } catch { throw Self.hubError(error, "reset journal", journalFile.path) }
        resumed = IntervalSet()
    }

    public func startWriteback(offset: Int64, count: Int64) {
        if fd >= 0 { _ = hm_start_writeback(fd, offset, count) }
    }

    public func syncData() throws(HubError) {
        if fdatasync(fd) != 0 { throw FS.error("flush to disk", path) }
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        if directFD >= 0 { Glibc.close(directFD); directFD = -1 }
        journalFile.close()
    }

    /// Removes the journal once the content was adopted (the data file was moved away).
    public func removeJournal() { journalFile.remove() }
}
