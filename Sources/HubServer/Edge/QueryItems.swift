internal import Foundation
internal import HubCore

/// `a=1&b=x+y&b=z` as sent in query strings and `application/x-www-form-urlencoded` bodies:
/// `+` is a space, `%XX` escapes are decoded, keys may repeat, malformed items are dropped.
struct QueryItems: Sendable {
    private(set) var items: [(name: String, value: String)] = []

    init(_ raw: Substring?) {
        guard let raw, !raw.isEmpty else { return }
        for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(kv[0]) else { continue }
            let value = kv.count > 1 ? Self.decode(kv[1]) : ""
            guard let value else { continue }
            items.append((name, value))
        }
    }

    static func decode(_ s: Substring) -> String? {
        PercentEncoding.decode(s.replacingOccurrences(of: "+", with: " "))
    }

    func values(_ name: String) -> [String] { items.filter { $0.name == name }.map(\.value) }
    func first(_ name: String) -> String? { items.first { $0.name == name }?.value }

    /// `true`/`1`/`yes` and `false`/`0`/`no` (any case); nil when absent or unreadable.
    func bool(_ name: String) -> Bool? {
        guard let v = first(name)?.lowercased() else { return nil }
        switch v {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: return nil
        }
    }
}
