import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import HubCore
import HubDigest

extension LocalDirStore {
    /// Files of the folder that publishing `target` would overwrite or remove although their content is
    /// no longer what was last written there (edited since), sorted. A file counts as unchanged when its
    /// size is the recorded one and it was not modified after its `download/<path>.metadata` was written
    /// (the official client's rule); a file modified since is hashed, so touching it alone is no edit.
    /// A file that already holds the content `target` wants is never an edit.
    public func editedFiles(replacing target: Manifest) -> [String] {
        let current = Dictionary((currentManifest()?.entries ?? []).map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let wanted = Dictionary(target.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        var edited: [String] = []
        for path in Set(current.keys).union(wanted.keys).sorted() {
            let file = root + "/" + path
            guard FS.exists(file) else { continue }
            let new = wanted[path]
            let old = current[path]
            // What publish leaves alone: a path the target keeps with the content and size held now.
            if let new, let old, new.etag == old.etag, FS.fileSize(file) == old.size { continue }
            // A path neither written before nor wanted now is not ours to touch; a path the target drops is
            // removed only while it has its recorded size (else it is left as it is).
            if old == nil && new == nil { continue }
            // A folder where the target puts a file (the old revision had files below it): publish empties it
            // first and cannot replace a folder that still holds anything, so nothing is lost.
            if old == nil, FS.isDirectory(file) { continue }
            if new == nil, let old, FS.fileSize(file) != old.size { continue }
            if let new, holds(new, at: file) { continue }
            if let old, holdsAsWritten(old, at: file) { continue }
            // Not written by hubmirror: the official client's own record of the file will do.
            if old == nil, let stamp = recordedWrite(path)?.timestamp, let mtime = FS.modificationTime(file), mtime <= stamp + 1 { continue }
            edited.append(path)
        }
        return edited
    }

    /// Throws `.localEdits` naming the files `editedFiles(replacing:)` finds.
    public func refuseEdits(replacing target: Manifest) throws {
        let edited = editedFiles(replacing: target)
        guard !edited.isEmpty else { return }
        let names = edited.prefix(5).joined(separator: ", ") + (edited.count > 5 ? ", … (\(edited.count) in all)" : "")
        throw HubError(.localEdits, "\(edited.count) file(s) in \(root) changed since hubmirror wrote them and would be overwritten "
                       + "or removed by \(repo)@\(target.commit.prefix(12)): \(names); nothing was changed. Move your changes away, "
                       + "or rerun with --force to overwrite them")
    }

    /// True when `file` is what was last written for `entry` there.
    func holdsAsWritten(_ entry: ManifestEntry, at file: String) -> Bool {
        guard FS.fileSize(file) == entry.size else { return false }
        if let record = recordedWrite(entry.path), record.etag == entry.etag,
           let mtime = FS.modificationTime(file), mtime <= record.timestamp + 1 {
            return true
        }
        return holds(entry, at: file)
    }

    /// The etag and time `download/<path>.metadata` records for the last write of `path` (`commit`,
    /// `etag`, `timestamp` lines, as the official client writes them), if any.
    func recordedWrite(_ path: String) -> (etag: String, timestamp: Double)? {
        guard let meta = FS.readFile(metaRoot + "/download/\(path).metadata") else { return nil }
        let lines = String(decoding: meta, as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.count >= 3, let stamp = Double(lines[2]) else { return nil }
        return (lines[1], stamp)
    }

    /// True when `file` holds exactly the content of `entry` (hashed).
    func holds(_ entry: ManifestEntry, at file: String) -> Bool {
        guard FS.fileSize(file) == entry.size else { return false }
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let hasher = ContentHasher(size: entry.size, gitBlob: !entry.isLFS)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return false }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        guard hasher.bytesHashed == entry.size else { return false }
        let d = hasher.finish()
        return entry.isLFS ? d.sha256 == entry.etag : d.gitBlobID == entry.blobID
    }
}
