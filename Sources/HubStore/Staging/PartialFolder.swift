import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import HubCore

/// A folder of `PartialFile`s: how a local sink stages content, checks room for it, and counts what
/// its journals record.
public struct PartialFolder: Sendable {
    /// The partial folder of a repo's state for `sync` (`partial`) or for `serve --upstream` (`partial-serve`),
    /// so that a pull-through and a sync of the same repo never write one partial file.
    public enum Use: String, Sendable, CaseIterable {
        case sync = "partial"
        case pullThrough = "partial-serve"
    }

    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The partial folder for `use` inside a repo's state folder.
    public init(state: String, use: Use) { directory = state + "/" + use.rawValue }

    public func stage(_ entry: ManifestEntry) throws(HubError) -> PartialFile {
        try PartialFile(directory: directory, etag: entry.etag, size: entry.size)
    }

    /// Moves verified staged content to its place with `move(path)`, then drops its journal.
    public func adopt(_ staged: any StagedContent, as entry: ManifestEntry, what: String, move: (String) throws -> Void) throws(HubError) {
        guard let file = staged as? PartialFile else {
            throw HubError(.store, "\(what): staged content of \(entry.path) is not a partial file of this store")
        }
        file.close()
        do { try move(file.path) } catch { throw PartialFile.hubError(error, "adopt", file.path) }
        file.removeJournal()
    }

    /// The path of the partial file of `etag` (for a reader that streams it while it is written).
    public func dataPath(_ etag: String) -> String { directory + "/" + PartialFile.dataName(etag) }

    /// Throws `.diskFull` unless the file system has room for `entries` (their partial files already
    /// allocated count as room held).
    public func checkRoom(for entries: [ManifestEntry], what: String) throws {
        let need = entries.reduce(Int64(0)) { $0 + $1.size }
        guard need > 0 else { return }
        try FS.mkdirs(directory)
        var st = statvfs()
        guard statvfs(directory, &st) == 0 else { return }
        let free = Int64(st.f_bavail) * Int64(st.f_frsize)
        let held = entries.reduce(Int64(0)) { $0 + (FS.fileSize(dataPath($1.etag)) ?? 0) }
        if need - held > free {
            throw HubError(.diskFull, "\(what) needs \(ByteSize.format(need - held)) more but only \(ByteSize.format(free)) is free under \(directory); nothing was changed")
        }
    }

    /// How many partial files there are and the bytes their journals record as written: what the next
    /// run would resume, not the preallocated size. A partial file without a matching journal (or of
    /// another size than its journal says) counts with 0 bytes, as the next run starts it over.
    public var written: (files: Int, bytes: Int64) {
        var files = 0
        var bytes: Int64 = 0
        for name in FS.listDirectory(directory) {
            guard let etag = PartialFile.etag(ofDataName: name) else { continue }
            files += 1
            if let j = ResumeJournal.read(at: directory + "/" + PartialFile.journalName(etag)), j.etag == etag, FS.fileSize(directory + "/" + name) == j.size {
                bytes += j.recorded.totalBytes
            }
        }
        return (files, bytes)
    }
}
