public import HubCore
public import Foundation
#if canImport(Glibc)
public import Glibc
#endif

/// Thin wrappers over the POSIX calls the store needs, turning errno into `HubError`s that say
/// which path failed and whether the disk is full or read-only.
public enum FS {
    /// Maps an errno from an operation on `path` to a HubError whose cause records errno, operation
    /// and path, and whose location is the caller's.
    public static func error(
        _ op: String, _ path: String, errno code: Int32 = errno, fileID: StaticString = #fileID, line: UInt = #line
    ) -> HubError {
        let text = String(cString: strerror(code))
        let cause = HubError.Cause.errno(code, operation: op, path: path)
        switch code {
        case ENOSPC, EDQUOT:
            return HubError(.diskFull, "disk full while trying to \(op) \(path): \(text)", cause: cause, fileID: fileID, line: line)
        case EROFS, EACCES, EPERM:
            return HubError(.readOnly, "cannot \(op) \(path): \(text) (is the store read-only?)", cause: cause, fileID: fileID, line: line)
        default:
            return HubError(.store, "cannot \(op) \(path): \(text)", cause: cause, fileID: fileID, line: line)
        }
    }

    /// `path` with a leading `~` expanded (from `HOME`), empty and `.` components and a trailing `/`
    /// dropped, and, in an absolute path, `..` resolved by name and then the symlinks of its longest
    /// existing prefix: what `NSString.standardizingPath` gives, without NSString's path code, which
    /// crashed in `expandingTildeInPath` when called from many threads at once.
    public static func standardize(_ path: String) -> String {
        var p = path
        if p == "~" || p.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty {
            p = home + p.dropFirst()
        }
        let absolute = p.hasPrefix("/")
        var parts: [Substring] = []
        for c in p.split(separator: "/", omittingEmptySubsequences: true) where c != "." {
            if c == "..", absolute {
                _ = parts.popLast()
            } else {
                parts.append(c)
            }
        }
        guard absolute else { return parts.isEmpty ? (p.isEmpty ? "" : ".") : parts.joined(separator: "/") }
        // Symlinks: the longest prefix that exists, resolved, and the rest as it is.
        var existing = parts.count
        while existing > 0 && !exists("/" + parts[0..<existing].joined(separator: "/")) { existing -= 1 }
        var head = "/" + parts[0..<existing].joined(separator: "/")
        if existing > 0, let real = realPath(head) { head = real }
        let rest = parts[existing...].joined(separator: "/")
        if rest.isEmpty { return head }
        return head == "/" ? "/" + rest : head + "/" + rest
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Size of a regular file (following symlinks), or nil.
    public static func fileSize(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    public static func mkdirs(_ path: String) throws {
        if isDirectory(path) { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path && !isDirectory(parent) { try mkdirs(parent) }
        if mkdir(path, 0o755) != 0 {
            let code = errno
            if code == EEXIST && isDirectory(path) { return }
            throw code == EEXIST ? HubError(.store, "cannot create directory \(path): a file is in the way") : error("create directory", path, errno: code)
        }
    }

    /// Writes `data` to `path` atomically: temp file in the same folder, fsync, rename, fsync the folder.
    public static func writeAtomically(_ data: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try mkdirs(dir)
        let tmp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        if fd < 0 { throw error("create", tmp) }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            // The one close of `fd`, on every path, before the rename. A second close could hit a
            // descriptor another thread has just been given the same number for.
            defer { close(fd) }
            try writeAll(fd: fd, data, path: tmp)
            if fsync(fd) != 0 { throw error("fsync", tmp) }
        }
        if rename(tmp, path) != 0 { throw error("rename into", path) }
        ok = true
        fsyncDirectory(dir)
    }

    public static func writeAll(fd: Int32, _ data: [UInt8], path: String) throws {
        try data.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw error("write", path)
                }
                off += n
            }
        }
    }

    public static func readFile(_ path: String) -> [UInt8]? {
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        return [UInt8](d)
    }

    public static func fsyncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    /// Creates (or atomically replaces) a symlink at `path` pointing to `target`.
    public static func symlinkAtomically(target: String, at path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try mkdirs(dir)
        let tmp = "\(path).tmp-link-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        if symlink(target, tmp) != 0 { throw error("create symlink", tmp) }
        if rename(tmp, path) != 0 {
            let e = error("rename symlink into", path)
            unlink(tmp)
            throw e
        }
    }

    public static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buf, 4096)
        guard n >= 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func renameItem(_ from: String, _ to: String) throws {
        if rename(from, to) != 0 { throw error("rename \(from) to", to) }
    }

    public static func removeItem(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Removes empty folders from `dir` up to (not including) `stop`.
    public static func removeEmptyParents(of path: String, upTo stop: String) {
        var dir = (path as NSString).deletingLastPathComponent
        while dir.hasPrefix(stop + "/") && listDirectory(dir).isEmpty {
            if rmdir(dir) != 0 { return }
            dir = (dir as NSString).deletingLastPathComponent
        }
    }

    /// The canonical absolute path with every symlink resolved, or nil.
    public static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// Unix time `path` itself (not a link's target) was last modified, or nil.
    public static func modificationTime(_ path: String) -> Double? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }

    public static func listDirectory(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted() ?? []
    }

    /// Hard-links `from` to `to` (same file system), falling back to a copy.
    public static func linkOrCopy(_ from: String, _ to: String) throws {
        try mkdirs((to as NSString).deletingLastPathComponent)
        let tmp = "\(to).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        if link(from, tmp) != 0 {
            do {
                try FileManager.default.copyItem(atPath: from, toPath: tmp)
            } catch {
                unlink(tmp)
                throw HubError(.store, "cannot copy \(from) to \(to): \(error)", cause: .init(error, operation: "copy", path: from))
            }
        }
        if rename(tmp, to) != 0 {
            let e = error("rename into", to)
            unlink(tmp)
            throw e
        }
    }

    /// Relative path from the folder `fromDir` to `target` (both absolute, no symlinks, no `..`).
    public static func relativePath(from fromDir: String, to target: String) -> String {
        let a = fromDir.split(separator: "/").map(String.init)
        let b = target.split(separator: "/").map(String.init)
        var i = 0
        while i < a.count && i < b.count && a[i] == b[i] { i += 1 }
        let ups = Array(repeating: "..", count: a.count - i)
        return (ups + b[i...]).joined(separator: "/")
    }
}
