public import HubCore

/// What a sync learnt about a repo upstream, kept in `<repo>/.hubmirror/repo-info.json` so that
/// `serve` can refuse private and gated repos to clients without a token.
public struct RepoInfo: Codable, Sendable, Equatable {
    public var repo: RepoRef
    /// The upstream repo was private.
    public var isPrivate: Bool
    /// `false`, `"auto"` or `"manual"` upstream; anything but false counts as gated.
    public var gated: String?
    /// Endpoint it was synced from (never with credentials).
    public var endpoint: String?
    /// Unix time of the last successful sync.
    public var lastSync: Double?
    /// Names of the refs that are tags upstream (the cache layout keeps refs, not their kind); nil
    /// when never asked.
    public var tags: [String]?

    public init(repo: RepoRef, isPrivate: Bool = false, gated: String? = nil, endpoint: String? = nil, lastSync: Double? = nil,
                tags: [String]? = nil) {
        self.tags = tags
        self.repo = repo
        self.isPrivate = isPrivate
        self.gated = gated
        self.endpoint = endpoint
        self.lastSync = lastSync
    }

    public var isGated: Bool { gated != nil && gated != "false" }
}

extension CacheStore {
    public func repoInfoPath(_ repo: RepoRef) -> String { stateDirectory(repo) + "/repo-info.json" }

    public func loadRepoInfo(_ repo: RepoRef) -> RepoInfo? {
        guard let b = FS.readFile(repoInfoPath(repo)) else { return nil }
        return try? JSON.decode(RepoInfo.self, from: b)
    }

    public func saveRepoInfo(_ info: RepoInfo) throws {
        try FS.writeAtomically(try JSON.encode(info), to: repoInfoPath(info.repo))
    }
}
