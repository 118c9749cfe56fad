import Foundation
import HubCore

/// ETag header handling as the official client does it: strip `W/` and quotes.
public enum ETag {
    public static func normalize(_ value: String?) -> String? {
        guard var v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if v.hasPrefix("W/") { v.removeFirst(2) }
        return v.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// True for a git sha1 or sha256 in hex: the only ETags that name content.
    public static func isContentHash(_ v: String) -> Bool { HexDigits.isContentHash(v) }
}

/// `Content-Range: bytes a-b/total`.
public struct ContentRange: Equatable, Sendable {
    public var start: Int64
    public var end: Int64
    public var total: Int64?

    public static func parse(_ value: String?) -> ContentRange? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), v.hasPrefix("bytes ") else { return nil }
        func number(_ t: Substring) -> Int64? {
            guard !t.isEmpty, t.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            return Int64(t)
        }
        let rest = v.dropFirst(6)
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let se = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard se.count == 2, let s = number(se[0]), let e = number(se[1]), s <= e else { return nil }
        let total: Int64?
        if parts[1] == "*" { total = nil } else {
            guard let t = number(parts[1]) else { return nil }
            total = t
        }
        return ContentRange(start: s, end: e, total: total)
    }
}
