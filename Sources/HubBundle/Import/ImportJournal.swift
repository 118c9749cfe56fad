import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import HubCore
public import HubStore

/// The record of bundle members an import verified, so a rerun after a kill does not read them
/// again: `<repo>/.hubmirror/import/<bundle id>.journal`, in the repo that holds the blob. A header
/// line `hubmirror-import-journal 1 <bundle id>`, then one `<member name> <sha256>` line per verified
/// member, appended (and made durable) only after the member's bytes are. A torn last line is ignored.
public final class ImportJournal: @unchecked Sendable {
    public static func path(_ store: CacheStore, _ repo: RepoRef, bundleID: String) -> String {
        store.stateDirectory(repo) + "/import/\(bundleID).journal"
    }

    public let path: String
    let bundleID: String
    let durable: Bool
    private var fd: Int32 = -1

    public init(path: String, bundleID: String, durable: Bool) {
        self.path = path
        self.bundleID = bundleID
        self.durable = durable
    }

    deinit { if fd >= 0 { close(fd) } }

    var header: String { "hubmirror-import-journal 1 \(bundleID)\n" }

    /// Member name → sha256 of the members recorded, or empty when there is no journal of this bundle.
    public static func read(at path: String, bundleID: String) -> [String: String] {
        guard let bytes = FS.readFile(path) else { return [:] }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == Substring("hubmirror-import-journal 1 \(bundleID)") else { return [:] }
        // The last element is "" when the file ends with a newline; anything else is a torn line.
        lines.removeLast()
        var out: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: " ")
            guard parts.count == 2, BundleLayout.isSHA256(parts[1]) else { continue }
            out[String(parts[0])] = String(parts[1])
        }
        return out
    }

    /// Appends one verified member.
    public func record(_ name: String, sha256: String) throws(HubError) {
        if fd < 0 {
            do { try FS.mkdirs((path as NSString).deletingLastPathComponent) } catch { throw HubError(.store, "cannot create the folder of \(path): \(error)") }
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if fd < 0 { throw FS.error("open", path) }
            var st = stat()
            if fstat(fd, &st) == 0 && st.st_size == 0 {
                do { try FS.writeAll(fd: fd, Array(header.utf8), path: path) } catch { throw HubError(.store, "cannot write \(path): \(error)") }
            }
        }
        do { try FS.writeAll(fd: fd, Array("\(name) \(sha256)\n".utf8), path: path) } catch { throw HubError(.store, "cannot write \(path): \(error)") }
        if durable && fdatasync(fd) != 0 { throw FS.error("fsync", path) }
    }

    /// Removes the journal (the bundle is published).
    public func remove() {
        if fd >= 0 { close(fd); fd = -1 }
        FS.removeItem(path)
    }
}
