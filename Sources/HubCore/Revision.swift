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

/// What a ref of a repo is. The cache layout keeps refs as files without their kind; tags are known
/// only from the tag names sync records (`RepoInfo.tags`).
public enum RefKind: String, Sendable, Codable {
    case branch, tag, convert
    case pullRequest = "pr"

    /// The kind of ref `name` (`main`, `v1.0`, `refs/pr/1`, `refs/convert/parquet`); nil for other `refs/…`.
    public static func of(_ name: String, tags: Set<String>) -> RefKind? {
        if name.hasPrefix("refs/pr/") { return .pullRequest }
        if name.hasPrefix("refs/convert/") { return .convert }
        if name.hasPrefix("refs/") { return nil }
        return tags.contains(name) ? .tag : .branch
    }

    /// True when `revision` names a ref that could be a tag upstream: not a sha, not under `refs/`.
    public static func mayBeTag(_ revision: String) -> Bool {
        !Revision.isCommitSHA(revision) && !revision.hasPrefix("refs/")
    }
}
