internal import HubCore
internal import HubStore

/// Who may see which repo: the `--allow` list, and bearer tokens for private and gated repos.
/// Anything not allowed is answered exactly like a repo that does not exist.
struct AccessPolicy: Sendable {
    struct AllowRule: Sendable {
        /// Only repos of this type, when the pattern started with `models/`, `datasets/` or `spaces/`.
        var type: RepoType?
        var pattern: GlobPattern
    }

    let tokens: Set<String>
    let rules: [AllowRule]

    init(tokens: Set<String>, allow: [String]) {
        self.tokens = tokens
        self.rules = allow.map(Self.rule)
    }

    static func rule(_ text: String) -> AllowRule {
        for t in RepoType.allCases where text.hasPrefix(t.apiSegment + "/") {
            return AllowRule(type: t, pattern: GlobPattern(String(text.dropFirst(t.apiSegment.count + 1))))
        }
        return AllowRule(type: nil, pattern: GlobPattern(text))
    }

    /// Checks one `--allow` value, so that a pattern no repo can match is refused at start rather
    /// than answering every repo `401`. Throws `.usage` naming the option and the pattern.
    static func validate(allow text: String) throws {
        let rule = Self.rule(text)
        let glob = rule.pattern.pattern
        if glob.isEmpty {
            throw HubError(.usage, "--allow '\(text)' names no repo" + (rule.type.map { " after '\($0.apiSegment)/'" } ?? ""))
        }
        do {
            _ = try GlobPattern(validating: glob)
        } catch let e as HubError {
            throw HubError(.usage, "--allow \(e.message)", cause: .init(e))
        }
        let literals = rule.pattern.literals
        if let bad = literals.first(where: { !Self.repoIDCharacters.contains($0) }) {
            throw HubError(.usage, "--allow '\(text)' can match no repo: repo ids have no '\(bad)' (only letters, digits, '.', '_', '-' and one '/')")
        }
        if literals.filter({ $0 == "/" }).count > 1 {
            throw HubError(.usage, "--allow '\(text)' can match no repo: a repo id has at most one '/' (prefix 'models/', 'datasets/' or 'spaces/' for a type)")
        }
    }

    static let repoIDCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/")

    /// True when no allow-list is configured or some rule matches the repo id.
    func isAllowed(_ repo: RepoRef) -> Bool {
        if rules.isEmpty { return true }
        let id = repo.id.description
        return rules.contains { ($0.type == nil || $0.type == repo.type) && $0.pattern.matches(id) }
    }

    /// True when the request carries `Authorization: Bearer <t>` with a configured token.
    /// A token that is not configured counts as no token at all (clients send their Hub token
    /// everywhere), so public repos never fail because of one.
    func hasValidToken(authorization: String?) -> Bool {
        guard !tokens.isEmpty, let auth = authorization?.trimmingSpaces else { return false }
        guard auth.count > 7, auth.prefix(7).lowercased() == "bearer " else { return false }
        let token = auth.dropFirst(7).trimmingSpaces
        return !token.isEmpty && tokens.contains(String(token))
    }

    enum Decision: Equatable { case granted, hidden, gated }

    /// What a client gets for a repo the store holds, given its private/gated flags.
    func decide(_ repo: RepoRef, info: RepoInfo?, authorization: String?) -> Decision {
        guard isAllowed(repo) else { return .hidden }
        guard let info, info.isPrivate || info.isGated else { return .granted }
        if hasValidToken(authorization: authorization) { return .granted }
        return info.isPrivate ? .hidden : .gated
    }
}
