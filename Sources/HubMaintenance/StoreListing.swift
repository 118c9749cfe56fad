import Foundation
public import HubCore
public import HubStore
import HubTransfer

/// What the store holds of one repo, for `hubmirror ls`.
public struct RepoSummary: Codable, Sendable {
    public struct Ref: Codable, Sendable {
        public var name: String
        public var commit: String
        /// `branch`, `tag`, `pr` or `convert`; `tag` only when sync recorded the upstream's tag names.
        public var kind: String
    }

    public struct Snapshot: Codable, Sendable {
        public var commit: String
        /// Files linked in the snapshot.
        public var files: Int
        /// Files of the commit's saved manifest (nil when there is none).
        public var manifestFiles: Int?
        /// Unix time the snapshot folder last changed.
        public var modified: Double
    }

    public var repo: String
    public var type: String
    public var refs: [Ref] = []
    public var snapshots: [Snapshot] = []
    public var blobs = 0
    /// Bytes of the repo's blob files (hard links shared with other repos counted here too).
    public var bytes: Int64 = 0
    public var isPrivate = false
    public var gated: String?
    public var endpoint: String?
    /// Unix time of the last successful sync, from `repo-info.json`.
    public var lastSync: Double?
    /// Partial downloads waiting for a resume, and the bytes their resume journals record as written
    /// (what a resume keeps; not the preallocated size of the files).
    public var partialFiles = 0
    public var partialBytes: Int64 = 0
}

/// Reads what a cache holds, repo by repo, without hashing anything.
public struct StoreListing: Sendable {
    public let store: CacheStore

    public init(store: CacheStore) { self.store = store }

    public func summaries(_ repos: [RepoRef] = []) throws -> [RepoSummary] {
        try store.repos(selecting: repos).map(summary)
    }

    func summary(_ repo: RepoRef) -> RepoSummary {
        var s = RepoSummary(repo: repo.id.description, type: repo.type.rawValue)
        let info = store.loadRepoInfo(repo)
        s.isPrivate = info?.isPrivate ?? false
        s.gated = info?.isGated == true ? info?.gated : nil
        s.endpoint = info?.endpoint
        s.lastSync = info?.lastSync
        let tags = Set(info?.tags ?? [])
        s.refs = store.refs(repo).sorted { $0.key < $1.key }.map { name, commit in
            RepoSummary.Ref(name: name, commit: commit, kind: (RefKind.of(name, tags: tags) ?? .branch).rawValue)
        }
        let snapshots = store.repoDirectory(repo) + "/snapshots"
        for c in FS.listDirectory(snapshots).sorted() where Revision.isCommitSHA(c) {
            let modified = (FS.modificationTime(snapshots + "/" + c) ?? 0).rounded(.down)
            s.snapshots.append(RepoSummary.Snapshot(commit: c, files: StoreVerifier.links(under: snapshots + "/" + c).count,
                                                    manifestFiles: store.loadManifest(repo, commit: c)?.entries.count, modified: modified))
        }
        let blobs = store.repoDirectory(repo) + "/blobs"
        for name in FS.listDirectory(blobs) where HexDigits.isContentHash(name) {
            s.blobs += 1
            s.bytes += FS.fileSize(blobs + "/" + name) ?? 0
        }
        for use in PartialFolder.Use.allCases {
            let partial = PartialFolder(state: store.stateDirectory(repo), use: use).written
            s.partialFiles += partial.files
            s.partialBytes += partial.bytes
        }
        return s
    }
}
