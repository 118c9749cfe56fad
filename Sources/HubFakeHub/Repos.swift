public import HubCore
import HubDigest

extension FakeHub {
    // MARK: Repos and commits

    public static func model(_ id: String) -> RepoRef { repo(.model, id) }
    public static func dataset(_ id: String) -> RepoRef { repo(.dataset, id) }
    public static func space(_ id: String) -> RepoRef { repo(.space, id) }
    public static func repo(_ type: RepoType, _ id: String) -> RepoRef {
        do { return RepoRef(type: type, id: try RepoID(id)) } catch { preconditionFailure("\(error)") }
    }

    /// Creates a repo (or updates its flags). `gated` repos need a valid token like private ones but
    /// answer `GatedRepo` (403) instead of `RepoNotFound`.
    public func createRepo(_ repo: RepoRef, private isPrivate: Bool = false, gated: Bool = false) {
        state.withLock { s in
            if s.repos[repo] == nil {
                s.sequence += 1
                s.repos[repo] = RepoState(isPrivate: isPrivate, gated: gated, createdSequence: s.sequence)
            } else {
                s.repos[repo]!.isPrivate = isPrivate
                s.repos[repo]!.gated = gated
            }
        }
    }

    /// Removes a repo entirely.
    public func deleteRepo(_ repo: RepoRef) { state.withLock { _ = $0.repos.removeValue(forKey: repo) } }

    /// Creates a commit on top of `branch` (an empty tree when the branch does not exist yet), moves the
    /// branch to it and returns its 40-hex sha. Creates the repo (public) when missing. Contents are hashed
    /// here (files are read once).
    @discardableResult
    public func commit(
        _ repo: RepoRef, branch: String = "main", files: [String: FileSpec] = [:], deleting: [String] = [],
        message: String = "update"
    ) throws -> String {
        let stored = try Self.store(files)
        return state.withLock { s in
            let parent = s.repos[repo]?.branches[branch]
            let sha = Self.addCommit(&s, repo, parent: parent, files: stored, deleting: deleting, message: message)
            s.repos[repo]!.branches[branch] = sha
            return sha
        }
    }

    /// Creates a commit on top of `parent` (nil: empty tree) without moving any ref.
    @discardableResult
    public func commit(
        _ repo: RepoRef, parent: String?, files: [String: FileSpec] = [:], deleting: [String] = [],
        message: String = "update"
    ) throws -> String {
        let stored = try Self.store(files)
        return try state.withLock { s in
            if let parent, s.repos[repo]?.commits[parent] == nil { throw FakeHubError("unknown parent commit \(parent)") }
            return Self.addCommit(&s, repo, parent: parent, files: stored, deleting: deleting, message: message)
        }
    }

    private static func store(_ files: [String: FileSpec]) throws -> [StoredFile] {
        try files.map { path, spec in
            guard !path.isEmpty, !path.hasPrefix("/"), !path.hasSuffix("/") else { throw FakeHubError("bad file path '\(path)'") }
            return try StoredFile(path: path, content: spec.content, lfs: spec.lfs)
        }
    }

    private static func addCommit(
        _ s: inout State, _ repo: RepoRef, parent: String?, files: [StoredFile], deleting: [String], message: String
    ) -> String {
        if s.repos[repo] == nil {
            s.sequence += 1
            s.repos[repo] = RepoState(isPrivate: false, gated: false, createdSequence: s.sequence)
        }
        var tree = parent.flatMap { s.repos[repo]!.commits[$0]?.files } ?? [:]
        for path in deleting {
            tree[path] = nil
            // Deleting a directory removes everything below it.
            for key in tree.keys where key.hasPrefix(path + "/") { tree[key] = nil }
        }
        for f in files { tree[f.path] = f }
        s.sequence += 1
        let description = tree.values.sorted { $0.path < $1.path }.map { "\($0.path)\u{0}\($0.etag)\u{0}\($0.lfs)" }
            .joined(separator: "\n")
        let sha = Digest.hex(.sha1, of: Array("commit \(repo)\n\(parent ?? "-")\n\(s.sequence)\n\(message)\n\(description)".utf8))
        s.repos[repo]!.commits[sha] = Commit(sha: sha, parent: parent, message: message, files: tree, sequence: s.sequence)
        for f in tree.values where f.lfs {
            s.blobs[f.sha256] = f
            s.blobOwners[f.sha256, default: []].insert(BlobOwner(repo: repo, path: f.path))
        }
        return sha
    }

    /// Points branch `name` (may contain `/`, e.g. `feature/x`) at `commit`.
    public func setBranch(_ repo: RepoRef, _ name: String, _ commit: String) throws {
        try setRef(repo, "refs/heads/" + name, commit)
    }

    /// Points tag `name` at `commit`.
    public func tag(_ repo: RepoRef, _ name: String, _ commit: String) throws {
        try setRef(repo, "refs/tags/" + name, commit)
    }

    /// Points a ref at `commit`: `refs/heads/X` (branch), `refs/tags/X`, `refs/pr/N`, `refs/convert/X`;
    /// any other name is a branch.
    public func setRef(_ repo: RepoRef, _ ref: String, _ commit: String) throws {
        try state.withLock { s in
            guard var r = s.repos[repo] else { throw FakeHubError("unknown repo \(repo)") }
            guard r.commits[commit] != nil else { throw FakeHubError("unknown commit \(commit) in \(repo)") }
            if ref.hasPrefix("refs/heads/") {
                r.branches[String(ref.dropFirst(11))] = commit
            } else if ref.hasPrefix("refs/tags/") {
                r.tags[String(ref.dropFirst(10))] = commit
            } else if ref.hasPrefix("refs/") {
                r.otherRefs[ref] = commit
            } else {
                r.branches[ref] = commit
            }
            s.repos[repo] = r
        }
    }

    /// Removes a ref (same naming as `setRef`).
    public func deleteRef(_ repo: RepoRef, _ ref: String) {
        state.withLock { s in
            if ref.hasPrefix("refs/heads/") {
                s.repos[repo]?.branches[String(ref.dropFirst(11))] = nil
            } else if ref.hasPrefix("refs/tags/") {
                s.repos[repo]?.tags[String(ref.dropFirst(10))] = nil
            } else if ref.hasPrefix("refs/") {
                s.repos[repo]?.otherRefs[ref] = nil
            } else {
                s.repos[repo]?.branches[ref] = nil
            }
        }
    }

    /// The commit a revision (branch, tag, full ref name or sha) resolves to.
    public func resolve(_ repo: RepoRef, _ revision: String = "main") -> String? {
        state.withLock { $0.repos[repo]?.resolve(revision)?.sha }
    }

    /// The commit a revision resolves to, with its message, parent and tree.
    public func commitInfo(_ repo: RepoRef, _ revision: String) -> Commit? {
        state.withLock { $0.repos[repo]?.resolve(revision) }
    }

    /// The tree of a commit (or any revision), by path; empty when unknown.
    public func files(_ repo: RepoRef, _ revision: String) -> [String: StoredFile] {
        state.withLock { $0.repos[repo]?.resolve(revision)?.files ?? [:] }
    }

    /// The manifest a correct client derives for `revision`.
    public func manifest(_ repo: RepoRef, _ revision: String = "main") -> Manifest? {
        state.withLock { s in
            guard let c = s.repos[repo]?.resolve(revision) else { return nil }
            return Manifest(repo: repo, commit: c.sha, entries: c.files.values.sorted { $0.path < $1.path }.map(\.manifestEntry))
        }
    }
}
