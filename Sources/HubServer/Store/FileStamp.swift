internal import Foundation
#if canImport(Glibc)
internal import Glibc
// In release builds (whole-module) the compiler resolves `stat` to the copy CDispatch re-exports.
internal import CDispatch
#elseif canImport(Darwin)
internal import Darwin
#endif

/// What `stat` says about a path, enough to notice that it changed.
struct FileStamp: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var mtimeSeconds: Int
    var mtimeNanoseconds: Int
    var isDirectory: Bool
    var isRegularFile: Bool
    var isSymlink: Bool

    var modificationTime: Double { Double(mtimeSeconds) + Double(mtimeNanoseconds) / 1e9 }
}

/// Thin POSIX helpers the store layer does not offer: stamps, `realpath`, directory walks without
/// following links.
enum PosixFS {
    /// `stat` (following links) or `lstat`.
    static func stamp(_ path: String, followLinks: Bool = true) -> FileStamp? {
        var st = stat()
        let rc = followLinks ? stat(path, &st) : lstat(path, &st)
        guard rc == 0 else { return nil }
        let fmt = st.st_mode & S_IFMT
        #if canImport(Darwin)
        let secs = Int(st.st_mtimespec.tv_sec), nsecs = Int(st.st_mtimespec.tv_nsec)
        #else
        let secs = Int(st.st_mtim.tv_sec), nsecs = Int(st.st_mtim.tv_nsec)
        #endif
        return FileStamp(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                         mtimeSeconds: secs, mtimeNanoseconds: nsecs,
                         isDirectory: fmt == S_IFDIR, isRegularFile: fmt == S_IFREG, isSymlink: fmt == S_IFLNK)
    }

    /// Names in a directory (without `.`/`..`), unsorted; empty when it cannot be read.
    static func names(in dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let ent = readdir(d) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            out.append(name)
        }
        return out
    }
}
