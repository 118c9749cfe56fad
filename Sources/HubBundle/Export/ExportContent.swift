import Foundation
public import HubCore
import HubDigest
public import HubStore

/// What an export carries, read from the store: repos with the refs and commits selected, each
/// commit's manifest (the files its snapshot holds, every one with its SHA-256), and for each blob
/// the file in the store it is read from.
public struct ExportContent: Sendable {
    /// One repo to export, and which of its refs (nil: every ref).
    public struct Selection: Sendable {
        public var repo: RepoRef
        public var revision: String?
        public init(repo: RepoRef, revision: String? = nil) {
            self.repo = repo
            self.revision = revision
        }
    }

    public var repos: [BundleRepo]
    /// sha256 → a path in the store holding those bytes, and their size.
    public var sources: [String: (path: String, size: Int64)]
    /// Blob digests in first-use order (repos sorted, commits sorted, entries by path).
    public var order: [String]

    /// Reads the selected repos (none: every repo of the store with every ref).
    public static func read(_ store: CacheStore, selecting selections: [Selection]) throws -> ExportContent {
        var wanted: [(RepoRef, String?)] = []
        if selections.isEmpty {
            wanted = try store.repos(selecting: []).filter { store.holds($0) }.map { ($0, nil) }
            if wanted.isEmpty { throw HubError(.repoNotFound, "the store \(store.root) holds no repository to export") }
        } else {
            let named = try store.repos(selecting: selections.map(\.repo))
            wanted = zip(named, selections).map { ($0, $1.revision) }
        }
        var byRepo: [RepoRef: (refs: [String: String], commits: Set<String>)] = [:]
        var repoOrder: [RepoRef] = []
        for (repo, revision) in wanted {
            if byRepo[repo] == nil { repoOrder.append(repo); byRepo[repo] = ([:], []) }
            let target = store.target(repo)
            if let revision {
                guard let commit = target.localCommit(revision: revision) else {
                    throw HubError(.revisionNotFound, "\(repo) has no ref or snapshot '\(revision)' in the store \(store.root)")
                }
                if revision != commit { byRepo[repo]!.refs[revision] = commit }
                byRepo[repo]!.commits.insert(commit)
            } else {
                let refs = store.refs(repo).filter { FS.isDirectory(store.snapshotDirectory(repo, commit: $0.value)) }
                byRepo[repo]!.refs.merge(refs) { a, _ in a }
                byRepo[repo]!.commits.formUnion(refs.values)
                if refs.isEmpty {
                    // Snapshots synced by commit sha have no ref: take them all.
                    byRepo[repo]!.commits.formUnion(FS.listDirectory(store.repoDirectory(repo) + "/snapshots").filter(Revision.isCommitSHA))
                }
            }
        }
        var out = ExportContent(repos: [], sources: [:], order: [])
        for repo in repoOrder.sorted(by: { $0.cacheFolderName < $1.cacheFolderName }) {
            let sel = byRepo[repo]!
            var commits: [Manifest] = []
            for commit in sel.commits.sorted() {
                commits.append(try out.manifest(store, repo, commit: commit))
            }
            let info = store.loadRepoInfo(repo)
            out.repos.append(BundleRepo(repo: repo, isPrivate: info?.isPrivate ?? false, gated: info?.gated, tags: info?.tags,
                                        refs: sel.refs, commits: commits))
        }
        return out
    }

    /// The held files of one commit, each with its SHA-256 (hashed from the blob when no manifest
    /// knew it), recording where each blob is read from.
    mutating func manifest(_ store: CacheStore, _ repo: RepoRef, commit: String) throws -> Manifest {
        let target = store.target(repo)
        guard var m = target.heldManifest(commit: commit) else {
            throw HubError(.revisionNotFound, "\(repo) has no snapshot of commit \(commit) in the store \(store.root)")
        }
        for i in m.entries.indices {
            let e = m.entries[i]
            let path = store.blobPath(repo, etag: e.etag)
            guard FS.fileSize(path) == e.size else {
                throw HubError(.damaged, "\(repo)@\(commit): the blob of \(e.path) (\(e.etag)) is missing or has the wrong size in the store; run `hubmirror verify`")
            }
            let sha = try e.sha256 ?? Self.hashFile(path)
            m.entries[i].sha256 = sha
            if sources[sha] == nil {
                sources[sha] = (path, e.size)
                order.append(sha)
            }
        }
        m.formatVersion = Manifest.formatVersion
        return m
    }

    static func hashFile(_ path: String) throws -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { throw FS.error("open", path) }
        defer { try? h.close() }
        let d = Digest(.sha256)
        while true {
            let chunk = h.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { d.update($0) }
        }
        return d.finalizeHex()
    }
}
