import Foundation
public import HubAPI
public import HubCore
import HubHTTP
public import HubStore

/// Writes `repo-info.json`: what the upstream said about a repo (visibility, where from, when) and
/// its tag names, which the cache layout cannot keep.
public enum RepoInfoRecord {
    /// Saves `info` for `repo`. Tag names are asked upstream (one `refs` request) only when `revision`
    /// could be a tag and is a ref name new to the store, or when they were never asked, so an
    /// unchanged re-sync stays one request. An endpoint without a refs route counts as "no tags".
    /// `knownTags` (from a peer authority's catalog) are taken as they are, with no request.
    public static func save(_ info: RevisionInfo, repo: RepoRef, revision: String, newRef: Bool,
                            store: CacheStore, endpoint: String, api: HubAPIClient, knownTags: [String]? = nil) throws {
        var tags = knownTags ?? store.loadRepoInfo(repo)?.tags
        if knownTags == nil && RefKind.mayBeTag(revision) && (newRef || tags == nil) {
            tags = (try? api.tagNames(repo)) ?? tags ?? []
        }
        try store.saveRepoInfo(record(info, repo: repo, endpoint: endpoint, lastSync: Date().timeIntervalSince1970, tags: tags))
    }

    /// Before a first sync fetches anything: the repo's visibility only (no sync time, tags not asked),
    /// so that the mirror's peer routes can tell whether a caller may see the content it is downloading.
    /// An existing record is left as it is.
    public static func saveVisibility(_ info: RevisionInfo, repo: RepoRef, store: CacheStore, endpoint: String) {
        guard store.loadRepoInfo(repo) == nil else { return }
        try? FS.mkdirs(store.stateDirectory(repo))
        try? store.saveRepoInfo(record(info, repo: repo, endpoint: endpoint, lastSync: nil, tags: nil))
    }

    static func record(_ info: RevisionInfo, repo: RepoRef, endpoint: String, lastSync: Double?, tags: [String]?) -> RepoInfo {
        RepoInfo(repo: repo, isPrivate: info.isPrivate, gated: info.gated, endpoint: Redact.url(endpoint), lastSync: lastSync, tags: tags)
    }
}
