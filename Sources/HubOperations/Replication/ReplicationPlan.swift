public import HubCore
public import HubPeer

/// Which repos of a peer's catalog `replicate` copies: `--repo GLOB` (repeatable, matched against
/// the repo id, `*` crosses `/`) and `--type`. No glob selects every repo of the catalog.
public struct ReplicationSelection: Sendable, Equatable {
    public var globs: [String]
    public var type: RepoType?

    public init(globs: [String] = [], type: RepoType? = nil) {
        self.globs = globs
        self.type = type
    }

    public func selects(_ type: String, _ id: String) -> Bool {
        if let t = self.type, t.rawValue != type { return false }
        return globs.isEmpty || globs.contains { GlobPattern($0).matches(id) }
    }

    /// The globs that select no repo of `catalog` (a typo, or a repo the peer token does not grant).
    public func unmatched(in catalog: [PeerCatalog.Repo]) -> [String] {
        globs.filter { g in !catalog.contains { selects($0.type, $0.id) && GlobPattern(g).matches($0.id) } }
    }
}

/// What the store holds of one repo: its refs (branches, tags, PRs; `refs/convert/…` is not the
/// peer protocol's and never touched) and which commits have a complete snapshot.
public struct LocalRepoState: Sendable, Equatable {
    public var refs: [String: String]
    /// Commits whose snapshot holds every file of their saved manifest.
    public var complete: Set<String>
    /// Ref names recorded as tags (`repo-info.json`).
    public var tags: Set<String>

    public init(refs: [String: String] = [:], complete: Set<String> = [], tags: Set<String> = []) {
        self.refs = refs
        self.complete = complete
        self.tags = tags
    }
}

/// One ref's step in a replication.
public struct RefAction: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// New here: synced from the peer.
        case add
        /// Points elsewhere on the peer: synced, the ref moves.
        case move
        /// Same commit, but the snapshot here lacks files (e.g. an earlier `sync --include`): synced.
        case refill
        /// Same commit, complete here: nothing is asked of the peer.
        case unchanged
        /// Gone from the peer, kept here (no `--delete`).
        case kept
        /// Gone from the peer and `--delete`: the ref file is removed (blobs go with `gc`).
        case delete
    }

    public var ref: String
    public var kind: RefKind
    public var action: Kind
    /// The commit here before (nil for `add`).
    public var from: String?
    /// The commit at the peer (nil for `kept` / `delete`).
    public var to: String?

    public init(ref: String, kind: RefKind, action: Kind, from: String? = nil, to: String? = nil) {
        self.ref = ref
        self.kind = kind
        self.action = action
        self.from = from
        self.to = to
    }

    /// True when the ref is synced from the peer (the only steps that can ask it for content).
    public var syncs: Bool { action == .add || action == .move || action == .refill }
}

/// The steps for one repo of the catalog, or why its catalog entry is refused.
public struct RepoReplicationPlan: Sendable, Equatable {
    public var repo: RepoRef
    public var isPrivate: Bool
    public var gated: Bool
    /// Tag names at the peer.
    public var tags: [String]
    public var actions: [RefAction]
    /// Catalog refs refused (bad name or commit), with the reason: never written.
    public var rejected: [String]

    public var isNoop: Bool { actions.allSatisfy { $0.action == .unchanged || $0.action == .kept } && rejected.isEmpty }
}

/// The pure part of `replicate`: a peer's catalog and what the store holds -> the steps, per repo.
public enum ReplicationPlanner {
    /// Plans every selected repo of `catalog` (sorted by type and id). `local` gives the store's
    /// state of a repo (an empty state when it holds none). A catalog entry with a type or id that
    /// is not a repo's is listed in `invalid` and skipped.
    public static func plan(catalog: [PeerCatalog.Repo], selection: ReplicationSelection, delete: Bool,
                            local: (RepoRef) -> LocalRepoState) -> (repos: [RepoReplicationPlan], invalid: [String]) {
        var out: [RepoReplicationPlan] = []
        var invalid: [String] = []
        var seen = Set<RepoRef>()
        for entry in catalog where selection.selects(entry.type, entry.id) {
            guard let type = RepoType(parsing: entry.type), let id = try? RepoID(entry.id) else {
                invalid.append("catalog entry \(entry.type.debugDescription) \(entry.id.debugDescription): not a repo type and id")
                continue
            }
            let repo = RepoRef(type: type, id: id)
            guard seen.insert(repo).inserted else {
                invalid.append("catalog entry \(repo) listed twice; the first is used")
                continue
            }
            out.append(plan(entry, repo: repo, delete: delete, local: local(repo)))
        }
        out.sort { ($0.repo.type.rawValue, $0.repo.id.description) < ($1.repo.type.rawValue, $1.repo.id.description) }
        return (out, invalid)
    }

    /// The steps for one repo: every peer ref added, moved, refilled or unchanged; every local
    /// branch, tag or PR ref the peer no longer lists kept, or deleted with `delete`.
    public static func plan(_ entry: PeerCatalog.Repo, repo: RepoRef, delete: Bool, local: LocalRepoState) -> RepoReplicationPlan {
        var actions: [RefAction] = []
        var rejected: [String] = []
        var remote: [String: (RefKind, String)] = [:]
        let lists: [(RefKind, [String: String])] = [(.branch, entry.branches), (.tag, entry.tags), (.pullRequest, entry.pullRequests)]
        for (kind, refs) in lists {
            for (name, commit) in refs {
                if let why = refusal(name, kind: kind, commit: commit) {
                    rejected.append("ref \(name.debugDescription): \(why)")
                } else if remote[name] != nil {
                    rejected.append("ref \(name.debugDescription): listed as more than one kind")
                } else {
                    remote[name] = (kind, commit)
                }
            }
        }
        for (name, (kind, commit)) in remote {
            let action: RefAction.Kind
            switch local.refs[name] {
            case nil: action = .add
            case commit?: action = local.complete.contains(commit) ? .unchanged : .refill
            default: action = .move
            }
            actions.append(RefAction(ref: name, kind: kind, action: action, from: local.refs[name], to: commit))
        }
        for (name, commit) in local.refs where remote[name] == nil {
            // Only the kinds a catalog lists: a refs/convert/… ref here is none of the peer's business.
            guard let kind = RefKind.of(name, tags: local.tags), kind != .convert else { continue }
            actions.append(RefAction(ref: name, kind: kind, action: delete ? .delete : .kept, from: commit))
        }
        actions.sort { $0.ref < $1.ref }
        return RepoReplicationPlan(repo: repo, isPrivate: entry.private, gated: entry.gated, tags: entry.tags.keys.filter { remote[$0] != nil }.sorted(),
                                   actions: actions, rejected: rejected.sorted())
    }

    /// Why a catalog ref cannot be written here, or nil: ref names become paths under `refs/`, so a
    /// peer's are checked as a user's are, and must be of the kind they are listed as.
    static func refusal(_ name: String, kind: RefKind, commit: String) -> String? {
        guard Revision.isCommitSHA(commit) else { return "commit \(commit.debugDescription) is not 40 lowercase hex digits" }
        do { try Revision.validate(name) } catch let e as HubError { return e.message } catch { return "\(error)" }
        if Revision.isCommitSHA(name) { return "a ref named like a commit" }
        switch kind {
        case .pullRequest:
            let n = name.dropFirst("refs/pr/".count)
            guard name.hasPrefix("refs/pr/"), !n.isEmpty, n.allSatisfy(\.isASCII), n.allSatisfy(\.isNumber) else { return "not refs/pr/<number>" }
        case .branch, .tag, .convert:
            if name.hasPrefix("refs/") { return "a \(kind.rawValue) name under refs/" }
        }
        return nil
    }
}
