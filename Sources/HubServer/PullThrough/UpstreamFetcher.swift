internal import Foundation
public import HubCore
internal import HubAPI
internal import HubHTTP
internal import HubStore
internal import HubSync
public import HubTransfer
public import Logging

/// Pull-through from an HF-compatible endpoint (`serve --upstream`), with the same API client and
/// verified transfer engine as `hubmirror sync`. Listings record the revision without content;
/// each file is fetched on its own when a client asks for it, verified, then linked.
public struct UpstreamFetcher: PullThroughFetcher {
    public let endpoint: String
    let token: String?
    let store: CacheStore
    let transfer: TransferOptions
    let logger: Logger
    let stopped = Locked(false)

    /// - Parameters:
    ///   - transfer: engine settings for file fetches (stall timeout, rate per file…); its `connections`
    ///     bound all concurrent pull-through fetches together (one shared `ConnectionBudget`).
    public init(endpoint: String, token: String?, cacheDirectory: String, transfer: TransferOptions = TransferOptions(),
                logger: Logger = Logger(label: "hubmirror.pull")) {
        self.endpoint = endpoint
        self.token = token
        self.store = CacheStore(root: cacheDirectory)
        self.logger = logger
        var t = transfer
        let stopped = self.stopped
        let outer = transfer.shouldStop
        t.shouldStop = { stopped.withLock { $0 } || outer() }
        if t.budget == nil { t.budget = ConnectionBudget(total: transfer.connections) }
        self.transfer = t
    }

    public func stop() { stopped.withLock { $0 = true } }

    func api(_ repo: RepoRef) -> HubAPIClient {
        let request = SyncRequest(repo: repo, endpoint: endpoint, token: token, location: .cache(store.root), transfer: transfer)
        return HubAPIClient(endpoint: endpoint, credentials: request.credentials, retry: transfer.retry, logger: logger)
    }

    public func list(repo: RepoRef, revision: String) async throws -> String {
        try await Self.onThread { [self] in
            let api = self.api(repo)
            let info = try recordInfo(api, repo: repo, revision: revision)
            let full = try store.loadManifest(repo, commit: info.sha) ?? api.manifest(repo, commit: info.sha)
            // Files fetched before the listing was done (or held for another commit) are linked now.
            let target = store.target(repo)
            let held = Manifest(repo: repo, commit: info.sha, entries: full.entries.filter(target.hasContent))
            try target.publish(plan: Differ.plan(local: nil, remote: held), target: held, full: full, revision: revision)
            return info.sha
        }
    }

    public func resolve(repo: RepoRef, revision: String) async throws -> String {
        try await Self.onThread { [self] in try recordInfo(api(repo), repo: repo, revision: revision).sha }
    }

    public func entry(repo: RepoRef, commit: String, path: String) async throws -> ManifestEntry? {
        try await Self.onThread { [self] in
            try store.loadManifest(repo, commit: commit).map { $0.entries.first { $0.path == path } }
                ?? api(repo).pathInfo(repo, commit: commit, path: path)
        }
    }

    /// Resolves the revision and saves the repo's visibility (and tag names) before anything of it is served.
    func recordInfo(_ api: HubAPIClient, repo: RepoRef, revision: String) throws -> RevisionInfo {
        try Revision.validate(revision)
        let info = try api.revisionInfo(repo, revision: revision)
        try FS.mkdirs(store.root)
        try RepoInfoRecord.save(info, repo: repo, revision: revision, newRef: store.readRef(repo, revision: revision) == nil,
                                store: store, endpoint: endpoint, api: api)
        return info
    }

    public func fetch(repo: RepoRef, commit: String, entry: ManifestEntry, progress: PullProgress) async throws {
        try await Self.onThread { [self] in
            let target = store.target(repo)
            if !target.hasContent(entry) && !target.adoptFromOtherRepo(entry) {
                let partial = store.target(repo, staging: .pullThrough)
                progress.started(partialPath: partial.partials.dataPath(entry.etag))
                let request = FetchRequest.hub(repo: repo, commit: commit, entries: [entry], endpoint: endpoint, token: token)
                let report = ContentFetcher(options: transfer, logger: logger).fetch(request, into: partial) { event in
                    switch event {
                    case .prefixWritten(_, let bytes): progress.advanced(to: bytes)
                    case .corrupted: progress.restarted()
                    default: break
                    }
                }
                if let failure = report.failures.first { throw failure.error }
            }
            // Before the commit is listed its snapshot folder does not exist; the listing links held files.
            if FS.isDirectory(store.snapshotDirectory(repo, commit: commit)) {
                try target.link(entry, commit: commit)
            }
        }
    }

    /// Runs blocking curl and disk work on its own thread, off the server's executors.
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            Thread { c.resume(with: Result { try work() }) }.start()
        }
    }
}
