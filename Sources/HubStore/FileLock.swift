import HubCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory `flock` held for the life of the object: a cron run or a repo sync takes one so
/// that two runs never write the same state at once. The lock file records the holder's pid.
public final class FileLock: @unchecked Sendable {
    public let path: String
    private var fd: Int32

    /// Takes the lock without waiting; throws `.lockHeld` naming the holder when another process has it.
    public init(path: String, what: String) throws {
        self.path = path
        try FS.mkdirs((path as NSString).deletingLastPathComponent)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw FS.error("open lock file", path) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (FS.readFile(path).map { String(decoding: $0, as: UTF8.self) } ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            fd = -1
            throw HubError(.lockHeld, "\(what) is locked by another hubmirror process\(holder.isEmpty ? "" : " (pid \(holder))"); lock file \(path)")
        }
        _ = ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    public func unlock() {
        if fd >= 0 {
            flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
    }

    deinit { unlock() }
}
