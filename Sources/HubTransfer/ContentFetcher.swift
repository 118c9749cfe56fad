public import HubCore
import HubHTTP
public import HubStore
public import Logging

/// What to fetch: the files of one repo at one commit, and where their bytes may come from.
public struct FetchRequest: Sendable {
    public var repo: RepoRef
    public var commit: String
    public var entries: [ManifestEntry]
    /// In order of preference, for every content (each source says what it holds of each).
    /// Use `FetchRequest.hub(…)` for the Hub endpoint alone.
    public var sources: [any ContentSource]

    public init(repo: RepoRef, commit: String, entries: [ManifestEntry], sources: [any ContentSource]) {
        self.repo = repo
        self.commit = commit
        self.entries = entries
        self.sources = sources
    }

    /// The files of `repo@commit` from the Hub endpoint (its token bound to the endpoint's origin).
    public static func hub(repo: RepoRef, commit: String, entries: [ManifestEntry], endpoint: String, token: String?) -> FetchRequest {
        let credentials = Credentials(token: token, endpoint: endpoint)
        return FetchRequest(repo: repo, commit: commit, entries: entries,
                            sources: [HubEndpointSource(endpoint: endpoint, repo: repo, commit: commit, credentials: credentials)])
    }
}

/// The one way content is fetched: (repo, commit, entries, sources) → verified content in a sink.
/// `sync`, `verify --repair` and pull-through all call it; none builds an engine by hand. Each content
/// is fetched once however many paths share it. Concurrent fetches that should share one connection
/// limit pass the same `TransferOptions.budget`.
public struct ContentFetcher: Sendable {
    public var options: TransferOptions
    public var logger: Logger

    public init(options: TransferOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// Blocks until every content is verified into `sink`, failed, or the run was stopped.
    public func fetch(_ request: FetchRequest, into sink: any ContentSink,
                      onEvent: @escaping @Sendable (TransferEvent) -> Void = { _ in }) -> TransferReport {
        var seen = Set<String>()
        let jobs = request.entries.filter { seen.insert($0.etag).inserted }.map {
            FileJob(entry: $0, sources: request.sources, label: "\(request.repo):\($0.path)")
        }
        guard !jobs.isEmpty else { return TransferReport() }
        return TransferEngine(options: options, logger: logger, onEvent: onEvent).run(jobs: jobs, target: sink)
    }
}
