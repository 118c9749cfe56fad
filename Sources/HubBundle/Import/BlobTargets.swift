public import HubCore
public import HubStore

/// Where each blob of a bundle goes in the store and what it must hash to: its home (the first repo
/// whose files use it, under that file's cache name), other cache names it also needs (the same
/// bytes as an LFS file in one repo and a regular file in another), and the git blob ids regular
/// files using it promise. Pure.
public struct BlobTargets: Sendable {
    public struct Target: Sendable {
        public var sha256: String
        public var home: RepoRef
        public var entry: ManifestEntry
        /// (repo, entry) for each other cache name the bytes are needed under.
        public var otherNames: [(RepoRef, ManifestEntry)]
        /// Git blob ids the bytes must have (regular, non-LFS files).
        public var gitBlobIDs: Set<String>
        /// Every file that uses the bytes, `repo@commit:path`, for messages.
        public var usedBy: [String]
    }

    public private(set) var bySHA: [String: Target] = [:]

    public init(_ manifest: BundleManifest) {
        for r in manifest.repos {
            for c in r.commits {
                for e in c.entries {
                    let sha = e.sha256!
                    var t = bySHA[sha] ?? Target(sha256: sha, home: r.repo, entry: e, otherNames: [], gitBlobIDs: [], usedBy: [])
                    if !e.isLFS { t.gitBlobIDs.insert(e.blobID) }
                    if e.etag != t.entry.etag && !t.otherNames.contains(where: { $0.1.etag == e.etag }) { t.otherNames.append((r.repo, e)) }
                    if t.usedBy.count < 3 { t.usedBy.append("\(r.repo)@\(c.commit.prefix(12)):\(e.path)") }
                    bySHA[sha] = t
                }
            }
        }
    }

    public subscript(sha: String) -> Target? { bySHA[sha] }

    /// True when `store` holds the bytes under the home name, in the home repo or any other.
    public func held(_ sha: String, in store: CacheStore) -> Bool {
        guard let t = bySHA[sha] else { return false }
        return store.findBlob(etag: t.entry.etag, size: t.entry.size, preferring: t.home) != nil
    }
}
