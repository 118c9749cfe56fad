import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The contents a running sync is about to fetch into a partial folder, recorded as `planned` beside
/// the partial files:
///
/// ```
/// hubmirror-planned 1 <pid>
/// <digest> <size>
/// ...
/// ```
///
/// The mirror's peer routes read it to tell other mirrors that it is getting these contents before
/// their first byte arrives (Docs/peer-protocol.md). The sync removes it when its fetch ends; one left
/// by a killed run names a process that is gone and counts as absent.
public enum PlannedFetches {
    static let name = "planned"

    static func path(_ folder: PartialFolder) -> String { folder.directory + "/" + name }

    /// Records contents (digest → size) as planned by this process.
    public static func write(_ contents: [String: Int64], in folder: PartialFolder) throws {
        try FS.mkdirs(folder.directory)
        let text = "hubmirror-planned 1 \(getpid())\n" + contents.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined()
        try FS.writeAtomically(Array(text.utf8), to: path(folder))
    }

    public static func remove(in folder: PartialFolder) { FS.removeItem(path(folder)) }

    /// The planned contents (digest → size), or none when there is no record or its process is gone.
    public static func read(in folder: PartialFolder) -> [String: Int64] {
        guard let bytes = FS.readFile(path(folder)) else { return [:] }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        guard let header = lines.first?.split(separator: " "), header.count == 3, header[0] == "hubmirror-planned", header[1] == "1",
              let pid = Int32(header[2]), pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return [:] }
        var out: [String: Int64] = [:]
        for l in lines.dropFirst() {
            let parts = l.split(separator: " ")
            if parts.count == 2, let size = Int64(parts[1]), size >= 0 { out[String(parts[0])] = size }
        }
        return out
    }
}
