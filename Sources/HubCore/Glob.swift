/// `fnmatch`-style patterns with the official client's semantics (`filter_repo_objects`):
/// `*` matches any run of characters including `/`, `?` one character, `[seq]` / `[!seq]` a set;
/// a pattern ending in `/` matches everything below that folder. Matching is case-sensitive.
public struct GlobPattern: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    private let tokens: [Token]

    enum Token: Sendable, Hashable {
        case literal(Character)
        case any            // ?
        case star           // *
        case set([ClosedRange<Character>], negated: Bool)
    }

    public var description: String { pattern }

    public init(_ pattern: String) {
        var p = pattern
        if p.hasSuffix("/") { p += "*" }
        self.pattern = pattern
        self.tokens = GlobPattern.tokenize(p)
    }

    /// Like `init(_:)`, but refuses what `fnmatch` silently reads another way: an empty pattern, a
    /// `[` with no closing `]` (taken as a literal `[`), and a set whose range runs backwards
    /// (`[z-a]`, which matches nothing). Throws `.usage` naming the pattern; callers add the option.
    public init(validating pattern: String) throws {
        if let why = Self.problem(in: pattern) {
            throw HubError(.usage, "'\(pattern)' is not a valid glob: \(why)")
        }
        self.init(pattern)
    }

    /// Why `pattern` is not a glob one means to write, or nil when it is fine.
    static func problem(in pattern: String) -> String? {
        if pattern.isEmpty { return "the pattern is empty" }
        let chars = Array(pattern)
        var i = 0
        while i < chars.count {
            guard chars[i] == "[" else { i += 1; continue }
            // The same scan as `tokenize`: a ']' right after '[' or '[!' belongs to the set.
            var j = i + 1
            if j < chars.count && chars[j] == "!" { j += 1 }
            if j < chars.count && chars[j] == "]" { j += 1 }
            while j < chars.count && chars[j] != "]" { j += 1 }
            if j >= chars.count { return "the '[' at character \(i + 1) has no closing ']'" }
            var body = Array(chars[(i + 1)..<j])
            if body.first == "!" { body.removeFirst() }
            var k = 0
            while k < body.count {
                if k + 2 < body.count && body[k + 1] == "-" {
                    if body[k] > body[k + 2] { return "the range '\(body[k])-\(body[k + 2])' runs backwards and matches nothing" }
                    k += 3
                } else {
                    k += 1
                }
            }
            i = j + 1
        }
        return nil
    }

    /// The characters the pattern matches only as themselves: everything outside `*`, `?` and `[…]` sets.
    public var literals: [Character] {
        tokens.compactMap { if case .literal(let c) = $0 { return c } else { return nil } }
    }

    static func tokenize(_ p: String) -> [Token] {
        let chars = Array(p)
        var out: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "*":
                if out.last != .star { out.append(.star) }
                i += 1
            case "?":
                out.append(.any)
                i += 1
            case "[":
                // Python's fnmatch.translate: find the closing ']' (a ']' right after '[' or '[!' is literal).
                var j = i + 1
                if j < chars.count && chars[j] == "!" { j += 1 }
                if j < chars.count && chars[j] == "]" { j += 1 }
                while j < chars.count && chars[j] != "]" { j += 1 }
                if j >= chars.count {
                    out.append(.literal("["))
                    i += 1
                    continue
                }
                var body = Array(chars[(i + 1)..<j])
                var negated = false
                if body.first == "!" { negated = true; body.removeFirst() }
                var ranges: [ClosedRange<Character>] = []
                var k = 0
                while k < body.count {
                    if k + 2 < body.count && body[k + 1] == "-" {
                        if body[k] <= body[k + 2] { ranges.append(body[k]...body[k + 2]) }
                        k += 3
                    } else {
                        ranges.append(body[k]...body[k])
                        k += 1
                    }
                }
                out.append(.set(ranges, negated: negated))
                i = j + 1
            default:
                out.append(.literal(c))
                i += 1
            }
        }
        return out
    }

    /// True when the whole `text` matches.
    public func matches(_ text: String) -> Bool {
        let s = Array(text)
        // Iterative wildcard matching with backtracking to the last star: O(n*m) worst case.
        var ti = 0, si = 0
        var starTi = -1, starSi = 0
        while si < s.count {
            if ti < tokens.count {
                switch tokens[ti] {
                case .star:
                    starTi = ti; starSi = si; ti += 1
                    continue
                case .any:
                    ti += 1; si += 1
                    continue
                case .literal(let c):
                    if c == s[si] { ti += 1; si += 1; continue }
                case .set(let ranges, let negated):
                    let inSet = ranges.contains { $0.contains(s[si]) }
                    if inSet != negated { ti += 1; si += 1; continue }
                }
            }
            if starTi >= 0 {
                ti = starTi + 1
                starSi += 1
                si = starSi
                continue
            }
            return false
        }
        while ti < tokens.count, tokens[ti] == .star { ti += 1 }
        return ti == tokens.count
    }
}

/// Include / exclude selection of repo files, as `hf download --include/--exclude`:
/// a path is kept if it matches some include pattern (or there are none) and no exclude pattern.
public struct PathFilter: Sendable, Hashable, Codable {
    public let include: [String]
    public let exclude: [String]
    private let inc: [GlobPattern]
    private let exc: [GlobPattern]

    public init(include: [String] = [], exclude: [String] = []) {
        self.include = include
        self.exclude = exclude
        self.inc = include.map(GlobPattern.init)
        self.exc = exclude.map(GlobPattern.init)
    }

    public var isEverything: Bool { include.isEmpty && exclude.isEmpty }

    public func keeps(_ path: String) -> Bool {
        if !inc.isEmpty && !inc.contains(where: { $0.matches(path) }) { return false }
        return !exc.contains(where: { $0.matches(path) })
    }

    enum CodingKeys: String, CodingKey { case include, exclude }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(include: try c.decodeIfPresent([String].self, forKey: .include) ?? [],
                  exclude: try c.decodeIfPresent([String].self, forKey: .exclude) ?? [])
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(include, forKey: .include)
        try c.encode(exclude, forKey: .exclude)
    }
}
