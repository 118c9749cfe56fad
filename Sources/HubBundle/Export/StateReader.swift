public import Foundation
import HubCore
public import HubStore

extension StoreState {
    /// What `store` holds now: every repo with a snapshot or ref, its refs and snapshot commits, and
    /// every blob file with its size.
    public static func read(_ store: CacheStore, now: Date = Date()) -> StoreState {
        var repos: [Repo] = []
        var blobs: [String: Int64] = [:]
        for repo in store.repos().sorted(by: { $0.cacheFolderName < $1.cacheFolderName }) where store.holds(repo) {
            let commits = FS.listDirectory(store.repoDirectory(repo) + "/snapshots").filter(Revision.isCommitSHA)
            repos.append(Repo(repo: repo, refs: store.refs(repo), commits: commits))
            let dir = store.repoDirectory(repo) + "/blobs"
            for name in FS.listDirectory(dir) where !name.contains(".") {
                if let size = FS.fileSize(dir + "/" + name) { blobs[name] = size }
            }
        }
        return StoreState(created: BundleClock.iso8601(now), repos: repos, blobs: blobs)
    }
}

/// Times as the bundle formats write them.
public enum BundleClock {
    public static func iso8601(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
