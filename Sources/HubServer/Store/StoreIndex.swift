internal import Foundation
internal import HubCore
internal import HubStore
internal import NIOPosix

/// Read access to the store with the caches that keep per-request work independent of the store's
/// size. Per request it costs a few `stat`s and one small ref read:
/// - revisions are resolved by reading `refs/<rev>` (sync writes refs last, by rename, so a ref
///   that is readable points at a complete snapshot);
/// - a commit's `CommitView` is rebuilt only when its snapshot folder or saved manifest changes
///   (compared by `stat`), or after `fallbackTTL` for snapshots without a saved manifest;
/// - repo-info.json is re-read only when its `stat` changes.
///
/// Every read can be recorded in a request's `StoreFacts`, so that its answer can be given again
/// for as long as those facts hold (`AnswerCache`). With a `StoreWatch`, the views of a repo are also
/// forgotten on every change inside its snapshots or to its blobs (which no stamp of the snapshot
/// folder shows), and a kept answer needs no checks while its repo's generation has not moved.
final class StoreIndex: Sendable {
    let store: CacheStore
    let fallbackTTL: Double
    let maxViews: Int
    /// List files of a commit's manifest that the snapshot lacks (pull-through fetches them on demand).
    let listMissing: Bool

    private struct CachedView {
        var snapshot: FileStamp
        var manifest: FileStamp?
        var builtAt: Double
        var view: CommitView
    }

    private struct Views {
        var map: [String: CachedView] = [:]
        /// Repo folder path -> how many times its views were dropped: a view built while they were
        /// dropped may have read the store before the change, so it is not kept.
        var drops: [String: UInt64] = [:]
    }

    private let views = Locked(Views())
    private let infos = Locked<[String: (stamp: FileStamp?, info: RepoInfo?)]>([:])
    let paths: RepoPathTable
    /// Nil without inotify or with the watch switched off: answers are then checked by their facts.
    let watch: StoreWatch?

    init(store: CacheStore, listMissing: Bool = false, fallbackTTL: Double = 30, maxViews: Int = 256, watch: Bool = false) {
        self.store = store
        self.paths = RepoPathTable(store: store)
        self.listMissing = listMissing
        self.fallbackTTL = fallbackTTL
        self.maxViews = maxViews
        let views = self.views
        let root = store.root
        self.watch = watch ? StoreWatch(root: root, dropViews: { folder in Self.drop(root + "/" + folder, in: views) }) : nil
    }

    private static func drop(_ repoDirectory: String, in views: Locked<Views>) {
        let prefix = repoDirectory + "/"
        views.withLock { v in
            v.drops[repoDirectory, default: 0] &+= 1
            v.map = v.map.filter { !$0.key.hasPrefix(prefix) }
        }
    }

    /// A repo counts as held when its folder has a `snapshots/` folder.
    func repoExists(_ repo: RepoRef, seen: StoreFacts? = nil) -> Bool {
        let path = paths.paths(repo).snapshots
        let held = PosixFS.stamp(path)?.isDirectory == true
        seen?.note(.isDirectory(path: path, held))
        return held
    }

    func repoInfo(_ repo: RepoRef, seen: StoreFacts? = nil) -> RepoInfo? {
        let p = paths.paths(repo)
        let stamp = PosixFS.stamp(p.repoInfo)
        seen?.note(.stamp(path: p.repoInfo, stamp))
        let key = p.directory
        if let hit = infos.withLock({ $0[key] }), hit.stamp == stamp { return hit.info }
        let info = stamp == nil ? nil : store.loadRepoInfo(repo)
        infos.withLock { $0[key] = (stamp, info) }
        return info
    }

    /// The commit `revision` names in the store, if its snapshot is present: a 40-hex sha directly,
    /// anything else through `refs/<revision>` (validated first, so it stays below `refs/`).
    func commit(_ repo: RepoRef, revision: String, seen: StoreFacts? = nil) -> String? {
        let p = paths.paths(repo)
        let sha: String
        if Revision.isCommitSHA(revision) {
            sha = revision
        } else {
            guard (try? Revision.validate(revision)) != nil, revision.utf8.count <= 255 else { return nil }
            let refPath = p.ref(revision)
            let named = RefFile.commit(at: refPath)
            seen?.note(.ref(path: refPath, commit: named))
            guard let named else { return nil }
            sha = named
        }
        let snapshot = p.snapshot(sha)
        let held = PosixFS.stamp(snapshot)?.isDirectory == true
        seen?.note(.isDirectory(path: snapshot, held))
        return held ? sha : nil
    }

    /// `main`, else the most recently published snapshot: what `GET /api/models/{repo}` describes.
    func defaultCommit(_ repo: RepoRef, seen: StoreFacts? = nil) -> String? {
        if let c = commit(repo, revision: Revision.defaultBranch, seen: seen) { return c }
        seen?.notReusable()   // chosen from a folder listing
        let dir = paths.paths(repo).snapshots
        var best: (String, Double)?
        for name in PosixFS.names(in: dir) where Revision.isCommitSHA(name) {
            guard let st = PosixFS.stamp(dir + "/" + name), st.isDirectory else { continue }
            if best == nil || st.modificationTime > best!.1 { best = (name, st.modificationTime) }
        }
        return best?.0
    }

    /// Refs whose snapshot is present, sorted by name.
    func refs(_ repo: RepoRef, seen: StoreFacts? = nil) -> [(name: String, commit: String)] {
        seen?.notReusable()   // a folder listing
        return store.refs(repo)
            .filter { PosixFS.stamp(store.snapshotDirectory(repo, commit: $0.value))?.isDirectory == true }
            .map { (name: $0.key, commit: $0.value) }
            .sorted { $0.name < $1.name }
    }

    /// The view of a commit whose snapshot is present; built off the event loops when not cached.
    func view(_ repo: RepoRef, commit: String, seen: StoreFacts? = nil) async throws -> CommitView? {
        let p = paths.paths(repo)
        let key = p.snapshot(commit)
        let drops = views.withLock { $0.drops[p.directory] }
        let snapStamp = PosixFS.stamp(key)
        seen?.note(.stamp(path: key, snapStamp))
        guard let snapStamp, snapStamp.isDirectory else {
            views.withLock { _ = $0.map.removeValue(forKey: key) }
            return nil
        }
        let manifestPath = p.manifest(commit)
        let manifestStamp = PosixFS.stamp(manifestPath)
        seen?.note(.stamp(path: manifestPath, manifestStamp))
        // Without a saved manifest the view is the snapshot walked, which no stamp captures.
        if manifestStamp == nil { seen?.notReusable() }
        let hit = views.withLock { $0.map[key] }
        if let hit, hit.snapshot == snapStamp, hit.manifest == manifestStamp, manifestStamp != nil {
            seen?.note(.view(path: key, serial: hit.view.serial))
            return hit.view
        }
        let now = Date().timeIntervalSince1970
        if let hit, hit.snapshot == snapStamp, hit.manifest == manifestStamp, now - hit.builtAt < fallbackTTL {
            return hit.view
        }
        let store = self.store
        let listMissing = self.listMissing
        let built = try await NIOThreadPool.singleton.runIfActive {
            CommitView.build(store: store, repo: repo, commit: commit, listMissing: listMissing)
        }
        guard let built else { return nil }
        views.withLock { v in
            guard v.drops[p.directory] == drops else { return }
            if v.map.count >= maxViews, v.map[key] == nil {
                // Drop the oldest half: a crude LRU that keeps the bookkeeping O(1) per hit.
                let old = v.map.sorted { $0.value.builtAt < $1.value.builtAt }.prefix(maxViews / 2)
                for (k, _) in old { v.map.removeValue(forKey: k) }
            }
            v.map[key] = CachedView(snapshot: snapStamp, manifest: manifestStamp, builtAt: now, view: built)
        }
        seen?.note(.view(path: key, serial: built.serial))
        return built
    }

    /// The serial number of the view of the snapshot at `snapshot` the index holds, if any.
    func cachedViewSerial(snapshot: String) -> UInt64? {
        views.withLock { $0.map[snapshot]?.view.serial }
    }

    /// True when `path` is a regular file (not a link) of `size` bytes: a blob that can be served.
    static func isBlob(_ path: String, size: Int64) -> Bool {
        guard let st = PosixFS.stamp(path, followLinks: false) else { return false }
        return st.isRegularFile && st.size == size
    }

    func isBlob(_ path: String, size: Int64, seen: StoreFacts? = nil) -> Bool {
        let present = Self.isBlob(path, size: size)
        seen?.note(.blob(path: path, size: size, present: present))
        return present
    }

    /// Forgets the view of a commit (one of its files turned out to be gone); answers built from it
    /// are checked by their facts again.
    func invalidate(_ repo: RepoRef, commit: String) {
        let p = paths.paths(repo)
        _ = views.withLock { $0.map.removeValue(forKey: p.snapshot(commit)) }
        watch?.bump(p.folder)
    }

    /// The repo folder names of the store paths `paths` (nil when one is not in a repo folder).
    func repoFolders<S: Sequence<String>>(of paths: S) -> [String]? {
        let root = store.root + "/"
        var out: [String] = []
        for path in paths {
            guard path.hasPrefix(root) else { return nil }
            let rest = path.utf8.dropFirst(root.utf8.count)
            let name = String(decoding: rest.prefix { $0 != 47 }, as: UTF8.self)
            guard !name.isEmpty else { return nil }
            if !out.contains(name) { out.append(name) }
        }
        return out
    }
}
