import HubCore
import HubPeer

/// Refs and manifests from a peer named with `--authority`, for a mirror with no upstream access.
/// The chain of trust then ends at the authority's manifest: every byte is still checked against it.
enum AuthorityCatalog {
    /// The commit `revision` names at the authority, and the authority's catalog entry of the repo.
    static func resolve(_ repo: RepoRef, revision: String, at authority: PeerEndpoint) throws -> (String, PeerCatalog.Repo) {
        let client = PeerClient(base: authority.url, token: authority.token)
        guard let entry = try client.catalog().repos.first(where: { $0.type == repo.type.rawValue && $0.id == repo.id.description }) else {
            throw HubError(.repoNotFound, "repository \(repo) not found at the authority \(authority.url), or it is private and --peer-token does not grant access")
        }
        if Revision.isCommitSHA(revision) { return (revision, entry) }
        guard let commit = entry.branches[revision] ?? entry.tags[revision] ?? entry.pullRequests[revision] else {
            throw HubError(.revisionNotFound, "revision '\(revision)' not found in \(repo) at the authority \(authority.url)")
        }
        return (commit, entry)
    }

    static func manifest(_ repo: RepoRef, commit: String, at authority: PeerEndpoint) throws -> Manifest {
        let m: Manifest
        do {
            m = try PeerClient(base: authority.url, token: authority.token).manifest(repo, commit: commit)
        } catch let e as HubError where e.kind == .repoNotFound {
            throw HubError(.revisionNotFound, "the authority \(authority.url) holds no manifest of \(repo)@\(commit)")
        }
        guard m.repo == repo, m.commit == commit else {
            throw HubError(.protocolViolation, "the authority \(authority.url) answered a manifest of \(m.repo)@\(m.commit) for \(repo)@\(commit)")
        }
        for e in m.entries { _ = try RemotePath.validate(e.path, repo: repo.description) }
        return m
    }
}
