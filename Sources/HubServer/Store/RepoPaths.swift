internal import HubCore
internal import HubStore
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The store paths of one repo, spelled once: `CacheStore`'s path functions rebuild the repo's folder
/// name on every call, which was a tenth of the time of a small resolve under load.
struct RepoPaths: Sendable {
    /// The repo folder's name in the store root.
    let folder: String
    let directory: String
    let snapshots: String
    let refs: String
    let blobs: String
    let repoInfo: String
    let manifests: String

    init(store: CacheStore, repo: RepoRef) {
        folder = repo.cacheFolderName
        directory = store.repoDirectory(repo)
        snapshots = directory + "/snapshots"
        refs = directory + "/refs"
        blobs = directory + "/blobs"
        repoInfo = store.repoInfoPath(repo)
        manifests = store.stateDirectory(repo) + "/manifests"
    }

    func snapshot(_ commit: String) -> String { snapshots + "/" + commit }
    func manifest(_ commit: String) -> String { manifests + "/" + commit + ".json" }
    func blob(_ etag: String) -> String { blobs + "/" + etag }
    func ref(_ revision: String) -> String { refs + "/" + revision }
}

/// `RepoPaths` by repo, built on first use and kept (a few strings per repo the server was asked for;
/// only repo ids that parse get here).
final class RepoPathTable: Sendable {
    private let store: CacheStore
    private let table = Locked<[RepoRef: RepoPaths]>([:])
    private let limit = 100_000

    init(store: CacheStore) { self.store = store }

    func paths(_ repo: RepoRef) -> RepoPaths {
        if let hit = table.withLock({ $0[repo] }) { return hit }
        let p = RepoPaths(store: store, repo: repo)
        table.withLock { t in
            // Requests can name any number of repos the store does not hold: stay bounded.
            if t.count >= limit { t.removeAll(keepingCapacity: true) }
            t[repo] = p
        }
        return p
    }
}

enum RefFile {
    /// The commit a ref file names (40 hex digits, nothing else), read with plain `open`/`read`: the
    /// ref is read on every request so that a ref moved by a sync is seen at once.
    static func commit(at path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 41)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 41) }
        guard n == 40 else { return nil }
        let s = String(decoding: buf[0..<40], as: UTF8.self)
        return Revision.isCommitSHA(s) ? s : nil
    }
}
