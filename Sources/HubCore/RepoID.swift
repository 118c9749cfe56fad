import Foundation

/// A Hub repository id, `name` or `namespace/name`, validated by the Hub's rules.
public struct RepoID: Hashable, Codable, Sendable, CustomStringConvertible, Comparable {
    public let namespace: String?
    public let name: String

    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }

    /// Validates `text` as the Hub does: `[A-Za-z0-9._-]`, at most 96 characters a part,
    /// no `--` or `..`, no leading or trailing `-` or `.`.
    public init(_ text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 1 || parts.count == 2 else {
            throw HubError(.usage, "invalid repo id '\(text)': expected 'name' or 'namespace/name'")
        }
        for part in parts {
            if let why = RepoID.problem(with: part) {
                throw HubError(.usage, "invalid repo id '\(text)': \(why)")
            }
        }
        if parts.count == 2 { namespace = parts[0]; name = parts[1] } else { namespace = nil; name = parts[0] }
    }

    static func problem(with part: String) -> String? {
        if part.isEmpty { return "empty name part" }
        if part.count > 96 { return "a part is longer than 96 characters" }
        let allowed = part.unicodeScalars.allSatisfy { s in
            (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || s == "." || s == "_" || s == "-"
        }
        if !allowed { return "only letters, digits, '.', '_' and '-' are allowed" }
        if part.contains("--") || part.contains("..") { return "'--' and '..' are not allowed" }
        if let f = part.first, f == "-" || f == "." { return "a part may not start with '-' or '.'" }
        if let l = part.last, l == "-" || l == "." { return "a part may not end with '-' or '.'" }
        return nil
    }

    public static func < (a: RepoID, b: RepoID) -> Bool { a.description < b.description }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        try self.init(try c.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A repository on some endpoint: its type and id.
public struct RepoRef: Hashable, Codable, Sendable, CustomStringConvertible {
    public let type: RepoType
    public let id: RepoID

    public init(type: RepoType, id: RepoID) {
        self.type = type
        self.id = id
    }

    public var description: String { type == .model ? id.description : "\(type.apiSegment)/\(id)" }

    /// Folder name in the huggingface_hub cache, e.g. `models--acme--tiny`.
    public var cacheFolderName: String { type.cachePrefix + id.description.replacingOccurrences(of: "/", with: "--") }

    /// Parses a cache folder name such as `datasets--acme--data` back into a repo.
    public init?(cacheFolderName folder: String) {
        for t in RepoType.allCases where folder.hasPrefix(t.cachePrefix) {
            let rest = String(folder.dropFirst(t.cachePrefix.count))
            let parts = rest.components(separatedBy: "--")
            guard parts.count == 1 || parts.count == 2, let id = try? RepoID(parts.joined(separator: "/")) else { return nil }
            self.init(type: t, id: id)
            return
        }
        return nil
    }
}
