public import HubCore
import Foundation

/// A huggingface_hub cache directory (`HF_HUB_CACHE`): the layout the official client reads.
///
/// ```
/// <root>/models--org--name/blobs/<etag>
///                          snapshots/<sha>/<path> -> ../../blobs/<etag>
///                          refs/<rev>             (40-hex sha, no newline)
///                          trees/<sha>.json       (official tree cache)
///                          .hubmirror/            (hubmirror's own state; ignored by scan_cache_dir)
/// ```
public struct CacheStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = FS.standardize(root)
    }

    public func repoDirectory(_ repo: RepoRef) -> String { root + "/" + repo.cacheFolderName }
    public func blobPath(_ repo: RepoRef, etag: String) -> String { repoDirectory(repo) + "/blobs/" + etag }
    public func snapshotDirectory(_ repo: RepoRef, commit: String) -> String { repoDirectory(repo) + "/snapshots/" + commit }
    public func refPath(_ repo: RepoRef, revision: String) -> String { repoDirectory(repo) + "/refs/" + revision }
    public func stateDirectory(_ repo: RepoRef) -> String { repoDirectory(repo) + "/.hubmirror" }
    public func manifestPath(_ repo: RepoRef, commit: String) -> String { stateDirectory(repo) + "/manifests/\(commit).json" }
    /// The per-repo lock file. It lives under `.locks/` (which `scan_cache_dir()` skips), not in the repo
    /// folder: taking the lock must not create a repo folder, and a half repo can be removed under its lock.
    public func lockPath(_ repo: RepoRef) -> String { root + "/.locks/hubmirror/" + repo.cacheFolderName + ".lock" }

    /// True when the repo folder holds a snapshot or a ref: a repo the official client (and `ls`,
    /// `verify`) can see. A folder without either is a half repo, leftovers of a sync that published nothing.
    public func holds(_ repo: RepoRef) -> Bool {
        !FS.listDirectory(repoDirectory(repo) + "/snapshots").filter(Revision.isCommitSHA).isEmpty || !refs(repo).isEmpty
    }

    /// Repos present in the cache, by folder name.
    public func repos() -> [RepoRef] {
        FS.listDirectory(root).compactMap { RepoRef(cacheFolderName: $0) }.filter { FS.isDirectory(repoDirectory($0)) }
    }

    /// `selected`, each checked to be in the cache, or every repo of the cache (sorted) when empty.
    /// A selected repo must hold a snapshot or a ref unless `halfRepos` allows its bare folder (`gc`).
    public func repos(selecting selected: [RepoRef], halfRepos: Bool = false) throws -> [RepoRef] {
        if selected.isEmpty { return repos().sorted { $0.cacheFolderName < $1.cacheFolderName } }
        for repo in selected {
            if !FS.isDirectory(repoDirectory(repo)) {
                throw HubError(.repoNotFound, "\(repo) is not in the store \(root)")
            }
            if !halfRepos && !holds(repo) {
                throw HubError(.repoNotFound, "\(repo) is not in the store \(root): its folder holds no snapshot and no ref, "
                               + "only leftovers of a sync that published nothing (`hubmirror gc` removes them)")
            }
        }
        return selected
    }

    /// The commit a ref file names, or nil.
    public func readRef(_ repo: RepoRef, revision: String) -> String? {
        guard let bytes = FS.readFile(refPath(repo, revision: revision)) else { return nil }
        let s = String(decoding: bytes, as: UTF8.self)
        return Revision.isCommitSHA(s) ? s : nil
    }

    /// All refs of a repo: `main`, `v1.0`, `feature/x`, `refs/pr/1` -> commit.
    public func refs(_ repo: RepoRef) -> [String: String] {
        let base = repoDirectory(repo) + "/refs"
        var out: [String: String] = [:]
        guard let e = FileManager.default.enumerator(atPath: base) else { return out }
        while let rel = e.nextObject() as? String {
            if rel.contains(".tmp-") { continue }
            if let sha = readRef(repo, revision: rel) { out[rel] = sha }
        }
        return out
    }

    /// Writes `refs/<revision>` = commit, atomically, with no trailing newline.
    public func writeRef(_ repo: RepoRef, revision: String, commit: String) throws {
        try Revision.validate(revision)
        try FS.writeAtomically(Array(commit.utf8), to: refPath(repo, revision: revision))
    }

    public func loadManifest(_ repo: RepoRef, commit: String) -> Manifest? {
        guard let b = FS.readFile(manifestPath(repo, commit: commit)) else { return nil }
        return try? JSON.decode(Manifest.self, from: b)
    }

    public func saveManifest(_ manifest: Manifest) throws {
        try FS.writeAtomically(try JSON.encode(manifest), to: manifestPath(manifest.repo, commit: manifest.commit))
    }

    /// The blob a snapshot entry points at, if the link exists and resolves to a regular file.
    public func snapshotEntryBlob(_ repo: RepoRef, commit: String, path: String) -> (etag: String, size: Int64)? {
        let link = snapshotDirectory(repo, commit: commit) + "/" + path
        guard let size = FS.fileSize(link) else { return nil }
        if let target = FS.readLink(link) {
            return ((target as NSString).lastPathComponent, size)
        }
        return nil
    }

    /// Builds a manifest from a snapshot folder alone (for snapshots written by other tools).
    /// Blob ids are unknown there, so the etag stands in for them.
    public func manifestFromSnapshot(_ repo: RepoRef, commit: String) -> Manifest? {
        let dir = snapshotDirectory(repo, commit: commit)
        guard FS.isDirectory(dir), let e = FileManager.default.enumerator(atPath: dir) else { return nil }
        var entries: [ManifestEntry] = []
        while let rel = e.nextObject() as? String {
            guard let (etag, size) = snapshotEntryBlob(repo, commit: commit, path: rel) else { continue }
            let lfs = etag.utf8.count == 64 ? LFSInfo(sha256: etag, size: size, pointerSize: 0) : nil
            entries.append(ManifestEntry(path: rel, size: size, blobID: etag, lfs: lfs))
        }
        return Manifest(repo: repo, commit: commit, entries: entries)
    }

    /// Looks for verified content with this etag in any repo of the cache (for cross-repo dedupe).
    public func findBlob(etag: String, size: Int64, preferring repo: RepoRef) -> String? {
        let own = blobPath(repo, etag: etag)
        if FS.fileSize(own) == size { return own }
        for other in repos() where other != repo {
            let p = blobPath(other, etag: etag)
            if FS.fileSize(p) == size { return p }
        }
        return nil
    }

    /// A sync target for one repo in this cache; `staging` picks the partial folder (a pull-through
    /// and a sync of the same repo never share one).
    public func target(_ repo: RepoRef, staging: PartialFolder.Use = .sync) -> CacheTarget {
        CacheTarget(store: self, repo: repo, staging: staging)
    }
}

/// One repo of a `CacheStore` as a `SyncTarget`.
public struct CacheTarget: SyncTarget {
    public let store: CacheStore
    public let repo: RepoRef
    public let staging: PartialFolder.Use

    public init(store: CacheStore, repo: RepoRef, staging: PartialFolder.Use = .sync) {
        self.store = store
        self.repo = repo
        self.staging = staging
    }

    /// Where content is staged while it arrives.
    public var partials: PartialFolder { PartialFolder(state: store.stateDirectory(repo), use: staging) }
    public var partialDirectory: String { partials.directory }
    public var stateDirectory: String { store.stateDirectory(repo) }

    public func stage(_ entry: ManifestEntry) throws(HubError) -> any StagedContent { try partials.stage(entry) }

    public func adopt(_ staged: any StagedContent, as entry: ManifestEntry) throws(HubError) {
        try partials.adopt(staged, as: entry, what: "\(repo)") { try adoptVerified(entry, from: $0) }
    }

    public func checkRoom(for entries: [ManifestEntry]) throws { try partials.checkRoom(for: entries, what: "\(repo)") }

    public func adoptFromElsewhere(_ entry: ManifestEntry) -> Bool { adoptFromOtherRepo(entry) }

    public func localCommit(revision: String) -> String? {
        if Revision.isCommitSHA(revision) {
            return FS.isDirectory(store.snapshotDirectory(repo, commit: revision)) ? revision : nil
        }
        return store.readRef(repo, revision: revision)
    }

    public func savedManifest(commit: String) -> Manifest? { store.loadManifest(repo, commit: commit) }

    public func latestCommit() -> String? {
        let dir = store.repoDirectory(repo) + "/snapshots"
        var best: (String, Double)? = nil
        for c in FS.listDirectory(dir) where Revision.isCommitSHA(c) {
            guard let attrs = try? FileManager.default.attributesOfItem(atPath: dir + "/" + c),
                  let m = (attrs[.modificationDate] as? Date)?.timeIntervalSince1970 else { continue }
            if best == nil || m > best!.1 { best = (c, m) }
        }
        return best?.0
    }

    public func heldManifest(commit: String) -> Manifest? {
        guard FS.isDirectory(store.snapshotDirectory(repo, commit: commit)) else { return nil }
        guard let saved = store.loadManifest(repo, commit: commit) else {
            return store.manifestFromSnapshot(repo, commit: commit)
        }
        var m = saved
        m.entries = saved.entries.filter { e in
            guard let (etag, size) = store.snapshotEntryBlob(repo, commit: commit, path: e.path) else { return false }
            return etag == e.etag && size == e.size
        }
        return m
    }

    public func hasContent(_ entry: ManifestEntry) -> Bool {
        FS.fileSize(store.blobPath(repo, etag: entry.etag)) == entry.size
    }

    public func adoptVerified(_ entry: ManifestEntry, from path: String) throws {
        let blob = store.blobPath(repo, etag: entry.etag)
        try FS.mkdirs((blob as NSString).deletingLastPathComponent)
        try FS.renameItem(path, blob)
        FS.fsyncDirectory((blob as NSString).deletingLastPathComponent)
    }

    /// Hard-links content another repo of the cache already holds; true when it did.
    public func adoptFromOtherRepo(_ entry: ManifestEntry) -> Bool {
        guard let src = store.findBlob(etag: entry.etag, size: entry.size, preferring: repo) else { return false }
        let dst = store.blobPath(repo, etag: entry.etag)
        if src == dst { return true }
        return (try? FS.linkOrCopy(src, dst)) != nil
    }

    public func publish(plan: Plan, target: Manifest, full: Manifest, revision: String) throws {
        let commit = target.commit
        for e in target.entries where !hasContent(e) {
            throw HubError(.store, "cannot publish \(repo)@\(commit): content of \(e.path) (\(e.etag)) is missing from the store")
        }
        let snap = store.snapshotDirectory(repo, commit: commit)
        func linkTarget(_ e: ManifestEntry) -> String {
            let linkDir = (snap + "/" + e.path as NSString).deletingLastPathComponent
            return FS.relativePath(from: linkDir, to: store.blobPath(repo, etag: e.etag))
        }
        if !FS.isDirectory(snap) {
            // Build the whole snapshot beside it, then one rename makes it appear at once.
            // Relative links are computed for the final place; the staging folder has the same depth.
            let staging = stateDirectory + "/staging/\(commit).\(UInt32.random(in: 0...UInt32.max))"
            FS.removeItem(staging)
            try FS.mkdirs(staging)
            for e in target.entries {
                let p = staging + "/" + e.path
                try FS.mkdirs((p as NSString).deletingLastPathComponent)
                if symlink(linkTarget(e), p) != 0 { throw FS.error("create symlink", p) }
            }
            try FS.mkdirs(store.repoDirectory(repo) + "/snapshots")
            do {
                try FS.renameItem(staging, snap)
            } catch {
                FS.removeItem(staging)
                if !FS.isDirectory(snap) { throw error }
            }
            FS.fsyncDirectory(store.repoDirectory(repo) + "/snapshots")
        }
        // An existing snapshot (earlier partial sync, or the official client) gets missing links one by one.
        for e in target.entries {
            let p = snap + "/" + e.path
            if let (etag, size) = store.snapshotEntryBlob(repo, commit: commit, path: e.path), etag == e.etag, size == e.size { continue }
            try FS.symlinkAtomically(target: linkTarget(e), at: p)
        }
        FS.mkdirsQuietly(store.repoDirectory(repo) + "/refs")
        // Merge digests learnt now with those saved before.
        var merged = full
        if let old = store.loadManifest(repo, commit: commit) {
            var known: [String: String] = [:]
            for e in old.entries { if let s = e.sha256 { known[e.path] = s } }
            for i in merged.entries.indices where merged.entries[i].sha256 == nil { merged.entries[i].sha256 = known[merged.entries[i].path] }
        }
        try store.saveManifest(merged)
        try FS.writeAtomically(try JSON.encode(TreeCacheFile(manifest: full)), to: store.repoDirectory(repo) + "/trees/\(commit).json")
        if revision != commit {
            try store.writeRef(repo, revision: revision, commit: commit)
        }
    }

    /// Links one file whose content is held into the commit's existing snapshot, atomically (the
    /// snapshot grows by one entry; pull-through publishes file by file this way).
    public func link(_ entry: ManifestEntry, commit: String) throws {
        guard hasContent(entry) else {
            throw HubError(.store, "cannot link \(repo)@\(commit):\(entry.path): its content (\(entry.etag)) is not in the store")
        }
        let snap = store.snapshotDirectory(repo, commit: commit)
        guard FS.isDirectory(snap) else { throw HubError(.store, "cannot link \(entry.path): \(repo)@\(commit) has no snapshot") }
        if let (etag, size) = store.snapshotEntryBlob(repo, commit: commit, path: entry.path), etag == entry.etag, size == entry.size { return }
        let p = snap + "/" + entry.path
        let linkDir = (p as NSString).deletingLastPathComponent
        try FS.symlinkAtomically(target: FS.relativePath(from: linkDir, to: store.blobPath(repo, etag: entry.etag)), at: p)
    }

    public func lock() throws -> FileLock {
        try FileLock(path: store.lockPath(repo), what: "repo \(repo)")
    }
}

extension FS {
    static func mkdirsQuietly(_ path: String) { try? mkdirs(path) }
}
