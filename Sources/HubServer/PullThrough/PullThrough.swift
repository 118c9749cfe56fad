public import HubCore
internal import Logging
internal import ServiceLifecycle

/// Brings what the store lacks from an upstream Hub, for `serve --upstream`, in two steps that match
/// what a client asks for:
///
/// - `list`: a revision the store does not know is resolved upstream and recorded (commit, full
///   manifest, visibility, ref, and a snapshot folder holding the files already in `blobs/`). No file
///   content moves, so a client's metadata requests and HEADs are answered within a few API round trips.
/// - `resolve` and `entry`: the commit a revision names (recording visibility) and one file's entry,
///   one request each, for answering about a file while the listing of a large repo is still running.
/// - `fetch`: one file of a listed commit is fetched, verified, moved into `blobs/` and linked into
///   the commit's snapshot. While it runs the fetcher reports the growing written prefix of its
///   partial file to `progress`, so the server can stream it to clients before the end is known.
///
/// Errors should be `HubError`s: `.repoNotFound`, `.revisionNotFound`, `.entryNotFound`, `.gated`
/// and `.unauthorized` reach the client as the matching Hub errors, anything else as `502` (`503` +
/// `Retry-After` when retryable).
public protocol PullThroughFetcher: Sendable {
    /// Records `repo@revision` in the store and returns its commit.
    func list(repo: RepoRef, revision: String) async throws -> String
    /// The commit `revision` names upstream; records the repo's visibility in the store.
    func resolve(repo: RepoRef, revision: String) async throws -> String
    /// The entry of one file of `commit` upstream, nil when there is no such file.
    func entry(repo: RepoRef, commit: String, path: String) async throws -> ManifestEntry?
    /// Makes `entry` of `commit` present in the store (its blob, and its snapshot link once the
    /// commit's snapshot folder exists), reporting progress.
    func fetch(repo: RepoRef, commit: String, entry: ManifestEntry, progress: PullProgress) async throws
    /// The server is shutting down: stop fetches under way (keeping partial data for a resume) so
    /// the requests waiting on them end now rather than when the download would have.
    func stop()
}

extension PullThroughFetcher {
    public func stop() {}
}

/// Tells the fetcher to stop as soon as graceful shutdown begins. Listed after the HTTP server in
/// the service group, so it hears of the shutdown first, before the server waits for its requests.
struct PullThroughStopper: Service {
    let fetcher: any PullThroughFetcher

    func run() async throws {
        try? await gracefulShutdown()
        fetcher.stop()
    }
}

/// Runs at most one listing per repo and revision and one fetch per repo and content at a time; a
/// fetch outlives the request that started it, so a client that gives up finds it on its retry.
/// Content that failed verification on every try is not fetched again for a cool-down (`FailedFetches`).
actor PullThroughCoordinator {
    let fetcher: any PullThroughFetcher
    let logger: Logger
    private var listings: [String: Task<String, any Error>] = [:]
    private var resolutions: [String: Task<String, any Error>] = [:]
    private var fetches: [String: (task: Task<Void, any Error>, progress: PullProgress)] = [:]
    private var failed: FailedFetches

    init(fetcher: any PullThroughFetcher, logger: Logger, failureCooldown: Duration) {
        self.fetcher = fetcher
        self.logger = logger
        self.failed = FailedFetches(cooldown: failureCooldown)
    }

    /// Starts (or joins) the listing of `repo@revision`.
    func listing(repo: RepoRef, revision: String, metrics: ServerMetrics) -> Task<String, any Error> {
        let key = "\(repo.type.rawValue)/\(repo.id)@\(revision)"
        if let t = listings[key] { return t }
        let fetcher = self.fetcher
        let logger = self.logger
        let t = Task<String, any Error> {
            // Runs on this actor (inherited isolation), so it starts only after `listings[key]` is set.
            defer { self.listingFinished(key) }
            do {
                let c = try await fetcher.list(repo: repo, revision: revision)
                metrics.pullThrough(kind: "list", result: "ok")
                logger.info("pull-through listed", metadata: ["repo": "\(repo)", "revision": "\(revision)", "commit": "\(c)"])
                return c
            } catch {
                metrics.pullThrough(kind: "list", result: "error")
                logger.warning("pull-through listing failed", metadata: ["repo": "\(repo)", "revision": "\(revision)", "error": "\(error)"])
                throw error
            }
        }
        listings[key] = t
        return t
    }

    /// Starts (or joins) resolving `repo@revision` to a commit upstream.
    func resolution(repo: RepoRef, revision: String) -> Task<String, any Error> {
        let key = "\(repo.type.rawValue)/\(repo.id)@\(revision)"
        if let t = resolutions[key] { return t }
        let fetcher = self.fetcher
        let t = Task<String, any Error> {
            defer { self.resolutionFinished(key) }
            return try await fetcher.resolve(repo: repo, revision: revision)
        }
        resolutions[key] = t
        return t
    }

    /// Starts (or joins) the fetch of one file's content; clients of any path with that content share it.
    /// Throws the cool-down's error at once while the content is in one: no fetch starts, and the
    /// client hears it before any byte (a task that throws could be seen only after a 200 went out).
    func fetch(repo: RepoRef, commit: String, entry: ManifestEntry, metrics: ServerMetrics) throws(HubError) -> (task: Task<Void, any Error>, progress: PullProgress) {
        let key = "\(repo.type.rawValue)/\(repo.id)#\(entry.etag)"
        // The cool-down first: a fetch that just failed is recorded there before it leaves `fetches`,
        // and a client must not join it then (it would get a 200 and a cut body).
        if let error = failed.failure(key, at: .now) {
            metrics.pullThrough(kind: "file", result: "cooldown")
            throw error
        }
        if let running = fetches[key] { return running }
        let progress = PullProgress()
        let fetcher = self.fetcher
        let logger = self.logger
        let t = Task<Void, any Error> {
            defer { self.fetchFinished(key) }
            logger.info("pull-through fetch started", metadata: ["repo": "\(repo)", "file": "\(entry.path)", "size": "\(entry.size)"])
            do {
                try await fetcher.fetch(repo: repo, commit: commit, entry: entry, progress: progress)
                progress.finish(nil)
                metrics.pullThrough(kind: "file", result: "ok")
                logger.info("pull-through fetch verified", metadata: ["repo": "\(repo)", "file": "\(entry.path)"])
            } catch {
                if FailedFetches.startsCooldown(error), let e = error as? HubError { self.failed.record(key, e, at: .now) }
                progress.finish(error)
                metrics.pullThrough(kind: "file", result: "error")
                logger.warning("pull-through fetch failed", metadata: ["repo": "\(repo)", "file": "\(entry.path)", "error": "\(error)"])
                throw error
            }
        }
        fetches[key] = (t, progress)
        return (t, progress)
    }

    private func listingFinished(_ key: String) { listings.removeValue(forKey: key) }
    private func resolutionFinished(_ key: String) { resolutions.removeValue(forKey: key) }
    private func fetchFinished(_ key: String) { fetches.removeValue(forKey: key) }
}
