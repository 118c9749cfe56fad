import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import HubCore

/// The durable record of which byte ranges of a partial file hold data, kept beside it as
/// `<etag>.journal`:
///
/// ```
/// hubmirror-journal 1 <etag> <size>
/// <start> <end>
/// ...
/// ```
///
/// A line is appended only after its bytes were written to the partial file, so after a crash or
/// `kill -9` every listed range is on disk; a torn last line is ignored. Ranges hold *written* data,
/// not verified data: the whole file is still hashed before it is published.
public final class ResumeJournal: @unchecked Sendable {
    public let path: String
    public let etag: String
    public let size: Int64
    private var fd: Int32 = -1

    /// The ranges recorded so far.
    public private(set) var recorded = IntervalSet()

    public init(path: String, etag: String, size: Int64) {
        self.path = path
        self.etag = etag
        self.size = size
    }

    deinit { close() }

    /// Parses journal text; returns nil when the header does not match this file.
    public static func parse(_ text: String, etag: String, size: Int64) -> IntervalSet? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let header = lines.first, header == "hubmirror-journal 1 \(etag) \(size)" else { return nil }
        lines.removeFirst()
        // The last element is "" for a complete file, or a torn line: drop it either way.
        if !lines.isEmpty { lines.removeLast() }
        var set = IntervalSet()
        for l in lines {
            let parts = l.split(separator: " ")
            guard parts.count == 2, let s = Int64(parts[0]), let e = Int64(parts[1]), 0 <= s, s <= e, e <= size else { continue }
            set.insert(ByteRange(s, e))
        }
        return set
    }

    /// Opens the journal, reading what an earlier run recorded, or starting a new one.
    /// - Parameter fresh: discard anything recorded before.
    public func open(fresh: Bool) throws {
        close()
        if !fresh, let bytes = FS.readFile(path), let set = ResumeJournal.parse(String(decoding: bytes, as: UTF8.self), etag: etag, size: size) {
            recorded = set
            fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            if fd < 0 { throw FS.error("open journal", path) }
            // Cut a torn last line so the next append starts on a line of its own.
            let keep = (bytes.lastIndex(of: 0x0A) ?? -1) + 1
            if keep < bytes.count && ftruncate(fd, off_t(keep)) != 0 { throw FS.error("truncate journal", path) }
            return
        }
        recorded = IntervalSet()
        try FS.writeAtomically(Array("hubmirror-journal 1 \(etag) \(size)\n".utf8), to: path)
        fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        if fd < 0 { throw FS.error("open journal", path) }
    }

    /// Records ranges whose bytes are already written. One `write` call, so a crash leaves whole
    /// lines or one torn line.
    public func append(_ ranges: [ByteRange]) throws {
        let fresh = ranges.filter { !$0.isEmpty && !recorded.contains($0) }
        guard !fresh.isEmpty else { return }
        var text = ""
        for r in fresh { text += "\(r.start) \(r.end)\n"; recorded.insert(r) }
        try FS.writeAll(fd: fd, Array(text.utf8), path: path)
    }

    /// Makes the journal durable (the data file must be synced first).
    public func sync() { if fd >= 0 { _ = fsync(fd) } }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    public func remove() {
        close()
        unlink(path)
    }
}
