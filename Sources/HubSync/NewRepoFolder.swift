import HubCore
import HubStore
import HubTransfer

/// The repo folder a first sync creates in a cache, and what a failure of that sync leaves of it.
///
/// A sync that publishes nothing must leave nothing the official client reads as a broken repo (a repo
/// folder without `snapshots/` is a "cache inconsistency" to `scan_cache_dir()`): when the run kept
/// nothing worth resuming the folder goes again; when it kept verified blobs or journaled partial data,
/// the folder stays for the next run's resume and gets an empty `snapshots/`, a repo with no revision yet.
struct NewRepoFolder {
    let store: CacheStore
    let repo: RepoRef

    /// The folder about to be created by this sync, or nil when the repo folder exists already.
    static func before(_ location: StoreLocation, repo: RepoRef) -> NewRepoFolder? {
        guard case .cache(let root) = location else { return nil }
        let store = CacheStore(root: root)
        return FS.exists(store.repoDirectory(repo)) ? nil : NewRepoFolder(store: store, repo: repo)
    }

    /// After a failed sync (called under the repo's lock).
    func abandon() {
        let dir = store.repoDirectory(repo)
        guard FS.exists(dir), !store.holds(repo) else { return }
        let blobs = FS.listDirectory(dir + "/blobs").contains(where: HexDigits.isContentHash)
        let partial = PartialFolder.Use.allCases.contains { PartialFolder(state: store.stateDirectory(repo), use: $0).written.bytes > 0 }
        if blobs || partial {
            try? FS.mkdirs(dir + "/snapshots")
        } else {
            FS.removeItem(dir)
        }
    }
}
