/// Checks on file paths that come from a remote listing. They are untrusted: a path that could
/// escape the snapshot folder, or that no file system can hold faithfully, is rejected.
public enum RemotePath {
    /// Returns `path` if it is a safe relative path, else throws `.unsafePath` naming it.
    @discardableResult
    public static func validate(_ path: String, repo: String? = nil) throws -> String {
        if let why = problem(with: path) {
            let whereText = repo.map { " in \($0)" } ?? ""
            throw HubError(.unsafePath, "refusing remote file name \(path.debugDescription)\(whereText): \(why)")
        }
        return path
    }

    /// Why `path` is unsafe, or nil when it is fine.
    public static func problem(with path: String) -> String? {
        if path.isEmpty { return "empty path" }
        if path.utf8.count > 4096 { return "path longer than 4096 bytes" }
        if path.utf8.contains(0) { return "contains a NUL byte" }
        if path.contains("\\") { return "contains a backslash" }
        if path.hasPrefix("/") { return "absolute path" }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) { return "contains a control character" }
        for seg in path.split(separator: "/", omittingEmptySubsequences: false) {
            if seg.isEmpty { return "empty path segment" }
            if seg == "." || seg == ".." { return "'.' or '..' segment" }
            if seg.utf8.count > 255 { return "a path segment is longer than 255 bytes" }
        }
        // Names the store keeps for itself next to snapshot files.
        if path == ".cache" || path.hasPrefix(".cache/huggingface") { return "reserved name '.cache/huggingface'" }
        return nil
    }
}
