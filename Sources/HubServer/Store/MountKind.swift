internal import Foundation
internal import HubStore

/// Whether a folder is on a file system that other machines may write to: inotify hears only of
/// changes made on this machine, so such folders are not watched (`StoreWatch`).
enum MountKind {
    /// File system types (as `/proc/self/mountinfo` names them) whose changes may come from elsewhere.
    static func isRemote(type: String) -> Bool {
        remoteTypes.contains(type) || type == "fuse" || type.hasPrefix("fuse.")
    }

    private static let remoteTypes: Set<String> = ["nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "afs", "9p", "lustre", "glusterfs", "gpfs", "beegfs", "ocfs2", "gfs2"]

    /// The type of the file system `path` (made real) is on, from `/proc/self/mountinfo`: the longest
    /// mount point that is a prefix of it. Nil when it cannot be told.
    static func type(of path: String) -> String? {
        guard let real = FS.realPath(path),
              let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        return type(ofRealPath: real, in: table)
    }

    /// The type of the file system of the real path `real` by the mount table `table`.
    static func type(ofRealPath real: String, in table: String) -> String? {
        var best: (point: String, type: String)?
        for line in table.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            let left = halves.first?.split(separator: " ") ?? []
            guard halves.count == 2, left.count >= 5, let type = halves[1].split(separator: " ").first else { continue }
            let point = unescape(String(left[4]))
            let covers = point == "/" || real == point || real.hasPrefix(point + "/")
            if covers, point.utf8.count >= (best?.point.utf8.count ?? -1) { best = (point, String(type)) }
        }
        return best?.type
    }

    /// False when `path` is on a remote file system, or when its type cannot be told.
    static func isLocal(_ path: String) -> Bool {
        guard let t = type(of: path) else { return false }
        return !isRemote(type: t)
    }

    /// Mount points escape space, tab, newline and backslash as `\ooo`.
    private static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == 92, i + 3 < u.count, let v = UInt8(String(decoding: u[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
