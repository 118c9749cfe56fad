import Foundation
import HubCore
import HubStore
#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under the system temp folder; call `remove()` in a `defer`.
struct TempDir {
    let path: String

    init() throws {
        let p = NSTemporaryDirectory() + "/hubstore-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        path = (p as NSString).standardizingPath
    }

    func sub(_ name: String) -> String { path + "/" + name }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func readText(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
}

func writeText(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

func readLinkTarget(_ path: String) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: path)
}

func isSymlink(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
}

func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

/// Every path below `dir`, relative, sorted (symlinks not followed).
func tree(_ dir: String) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
    var out: [String] = []
    while let rel = e.nextObject() as? String { out.append(rel) }
    return out.sorted()
}

let commitA = String(repeating: "a", count: 40)
let commitB = String(repeating: "b", count: 40)
let repo = RepoRef(type: .model, id: try! RepoID("acme/tiny"))

/// Content with the etag a Hub would give it (a git blob id, or the sha256 for LFS).
struct Content {
    var path: String
    var text: String
    var entry: ManifestEntry

    /// Fake but well-formed ids: the store never hashes on publish, it only trusts names and sizes.
    init(_ path: String, _ text: String, blob: Character, lfs: Bool = false) {
        self.path = path
        self.text = text
        let size = Int64(text.utf8.count)
        let blobID = String(repeating: blob, count: 40)
        if lfs {
            entry = ManifestEntry(path: path, size: size, blobID: blobID,
                                  lfs: LFSInfo(sha256: String(repeating: blob, count: 64), size: size, pointerSize: 130))
        } else {
            entry = ManifestEntry(path: path, size: size, blobID: blobID)
        }
    }

    func moved(to newPath: String) -> Content {
        var c = self
        c.path = newPath
        c.entry.path = newPath
        return c
    }
}
