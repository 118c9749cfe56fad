public import HubCore
internal import Logging

/// Makes a revision of an upstream repo present in the store, for `serve --upstream`.
///
/// The server calls it when a repo or revision is missing, or when a file of a commit's manifest is
/// missing from a filtered snapshot. The fetcher syncs into the same `CacheStore` the server reads
/// and publishes the usual way (blobs, then the snapshot, refs last), then returns the commit.
/// Errors should be `HubError`s: `.repoNotFound`, `.revisionNotFound`, `.gated` and
/// `.unauthorized` are passed on to the client as the matching Hub errors, anything else as `502`
/// (`503` + `Retry-After` when retryable).
public protocol PullThroughFetcher: Sendable {
    func ensure(repo: RepoRef, revision: String) async throws -> String
}

/// Runs at most one fetch per repo and revision at a time; a fetch outlives the request that
/// started it, so a client that gives up (HEAD timeout) finds the result on its retry.
actor PullThroughCoordinator {
    let fetcher: any PullThroughFetcher
    let logger: Logger
    private var running: [String: Task<String, any Error>] = [:]

    init(fetcher: any PullThroughFetcher, logger: Logger) {
        self.fetcher = fetcher
        self.logger = logger
    }

    /// Starts (or joins) the fetch of `repo@revision`.
    func task(repo: RepoRef, revision: String, metrics: ServerMetrics) -> Task<String, any Error> {
        let key = "\(repo.type.rawValue)/\(repo.id)@\(revision)"
        if let t = running[key] { return t }
        let fetcher = self.fetcher
        let logger = self.logger
        let t = Task<String, any Error> {
            logger.info("pull-through fetch started", metadata: ["repo": "\(repo)", "revision": "\(revision)"])
            // Runs on this actor (inherited isolation), so it starts only after `running[key]` is set.
            defer { self.finished(key) }
            do {
                let c = try await fetcher.ensure(repo: repo, revision: revision)
                metrics.pullThrough(result: "ok")
                logger.info("pull-through fetch done", metadata: ["repo": "\(repo)", "revision": "\(revision)", "commit": "\(c)"])
                return c
            } catch {
                metrics.pullThrough(result: "error")
                logger.warning("pull-through fetch failed", metadata: ["repo": "\(repo)", "revision": "\(revision)", "error": "\(error)"])
                throw error
            }
        }
        running[key] = t
        return t
    }

    private func finished(_ key: String) { running.removeValue(forKey: key) }
}
