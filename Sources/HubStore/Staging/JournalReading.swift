public import HubCore

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
}
