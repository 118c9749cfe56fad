/// Helpers for revisions: branch, tag, 40-hex commit sha, `refs/pr/N`.
public enum Revision {
    /// The revision used when none is given.
    public static let defaultBranch = "main"

    /// True for a full commit id: exactly 40 lowercase hex digits (the client's fast paths test this).
    public static func isCommitSHA(_ text: String) -> Bool {
        HexDigits.isLowercase(text, count: 40)
    }

    /// Validates a revision name given by a user: no empty, `.`/`..` segments, NUL, backslash or control
    /// characters, since it becomes a path under `refs/`.
    public static func validate(_ rev: String) throws {
        if rev.isEmpty { throw HubError(.usage, "revision must not be empty") }
        if rev.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\\" || $0.value == 0x7f }) {
            throw HubError(.usage, "invalid revision '\(rev.debugDescription)': control characters and backslashes are not allowed")
        }
        for seg in rev.split(separator: "/", omittingEmptySubsequences: false) {
            if seg.isEmpty || seg == "." || seg == ".." {
                throw HubError(.usage, "invalid revision '\(rev)': empty, '.' or '..' path segments are not allowed")
            }
        }
    }
}
