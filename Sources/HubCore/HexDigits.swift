/// Checks on hex strings that name content: commit ids, git blob ids, SHA-256 digests.
public enum HexDigits {
    /// True for exactly `count` lowercase hex digits.
    public static func isLowercase(_ s: String, count: Int) -> Bool {
        s.utf8.count == count && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// True for a git sha1 (40) or SHA-256 (64) in lowercase hex: the only names blobs may have.
    public static func isContentHash(_ s: String) -> Bool {
        isLowercase(s, count: 40) || isLowercase(s, count: 64)
    }
}
