import HubCore
import HubStore

extension ResumeJournal {
    /// What a journal file on disk records, without knowing its file beforehand: the etag and size
    /// from its header, and the ranges written. Nil when the file is missing or its header is not a journal's.
    public static func read(at path: String) -> (etag: String, size: Int64, recorded: IntervalSet)? {
        guard let bytes = FS.readFile(path) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        let header = text.prefix { $0 != "\n" }.split(separator: " ")
        guard header.count == 4, header[0] == "hubmirror-journal", header[1] == "1", let size = Int64(header[3]) else { return nil }
        let etag = String(header[2])
        guard let set = parse(text, etag: etag, size: size) else { return nil }
        return (etag, size, set)
    }

    /// Bytes the journals of the partial files in `directory` (`<etag>.part` beside `<etag>.journal`)
    /// record as written, and how many partial files there are: what the next run would resume, not
    /// the preallocated size. A partial file without a matching journal (or of another size than its
    /// journal says) counts with 0 bytes, as the next run starts it over.
    public static func partialData(in directory: String) -> (files: Int, bytes: Int64) {
        var files = 0
        var bytes: Int64 = 0
        for name in FS.listDirectory(directory) where name.hasSuffix(".part") {
            files += 1
            let etag = String(name.dropLast(".part".count))
            if let j = read(at: directory + "/" + etag + ".journal"), j.etag == etag, FS.fileSize(directory + "/" + name) == j.size {
                bytes += j.recorded.totalBytes
            }
        }
        return (files, bytes)
    }
}
