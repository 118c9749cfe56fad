public import HubCore
public import HubHTTP
public import HubPeer
public import HubStore
public import HubTransfer

/// Where a sync writes.
public enum StoreLocation: Sendable, Equatable {
    /// A huggingface_hub cache directory (`HF_HUB_CACHE`).
    case cache(String)
    /// A plain folder (`--local-dir`).
    case localDir(String)
}

/// Everything one `sync` or `diff` of one repo needs.
public struct SyncRequest: Sendable {
    public var repo: RepoRef
    public var revision: String
    public var filter: PathFilter
    public var endpoint: String
    public var token: String?
    public var location: StoreLocation
    public var transfer: TransferOptions
    /// `--local-dir` only: overwrite files changed there since they were written (else the sync refuses).
    public var force = false
    /// Mirrors to take bytes from before the endpoint (`--peer`): refs and manifests still come from
    /// the endpoint, and every byte is checked against its digest.
    public var peers: [PeerEndpoint] = []
    /// A peer that is the source of refs and manifests (`--authority`), for a mirror with no upstream
    /// access: then nothing is asked of `endpoint`, and bytes come from the peers (the authority first).
    public var authority: PeerEndpoint?
    /// The URL under which this mirror's peers know it (`--advertise`): mirrors listing each other as
    /// peers then split the upstream fetches by rendezvous hashing instead of each fetching everything.
    public var advertise: String?
    /// How often peers are asked what they hold while a fetch runs, and how long one is waited for.
    public var peerTiming = PeerWatch.Timing()

    public init(repo: RepoRef, revision: String = Revision.defaultBranch, filter: PathFilter = PathFilter(), endpoint: String,
                token: String? = nil, location: StoreLocation, transfer: TransferOptions = TransferOptions()) {
        self.repo = repo
        self.revision = revision
        self.filter = filter
        self.endpoint = endpoint
        self.token = token
        self.location = location
        self.transfer = transfer
    }

    public var credentials: Credentials { Credentials(token: token, endpoint: endpoint) }

    public func makeTarget() -> any SyncTarget {
        switch location {
        case .cache(let root): return CacheStore(root: root).target(repo)
        case .localDir(let dir): return LocalDirStore(root: dir, repo: repo, overwriteEdits: force)
        }
    }
}

/// The outcome of one repo's sync, as printed by `--json` and kept in run reports.
public struct SyncResult: Codable, Sendable {
    public var repo: String
    public var type: String
    public var revision: String
    public var commit: String
    public var added = 0
    public var changed = 0
    public var deleted = 0
    public var renamed = 0
    public var unchanged = 0
    public var filesFetched = 0
    public var bytesPlanned: Int64 = 0
    public var bytesReceived: Int64 = 0
    public var bytesResumed: Int64 = 0
    public var apiRequests = 0
    public var seconds: Double = 0
    public var dryRun = false
    public var upToDate = false
    /// `--local-dir --force`: files changed there since they were written, overwritten or removed by this sync.
    public var overwritten: [String]?
    /// Bytes received this run per source (`upstream http://…`, later peers).
    public var bytesBySource: [String: Int64]?
    /// Every time a source failed for a file, with the reason.
    public var strikes: [SourceStrike]?
    /// Sources not asked again in the run, with the last reason.
    public var unusableSources: [String: String]?

    /// Adds what one transfer run reports about its sources.
    mutating func record(_ report: TransferReport) {
        for (s, n) in report.bytesBySource where n > 0 { bytesBySource = (bytesBySource ?? [:]).merging([s: n], uniquingKeysWith: +) }
        if !report.strikes.isEmpty { strikes = (strikes ?? []) + report.strikes }
        if !report.unusableSources.isEmpty { unusableSources = (unusableSources ?? [:]).merging(report.unusableSources) { _, b in b } }
    }

    init(request: SyncRequest, commit: String, plan: Plan) {
        repo = request.repo.id.description
        type = request.repo.type.rawValue
        revision = request.revision
        self.commit = commit
        let c = plan.counts
        added = c[.added] ?? 0
        changed = c[.changed] ?? 0
        deleted = c[.deleted] ?? 0
        renamed = c[.renamed] ?? 0
        unchanged = c[.unchanged] ?? 0
        bytesPlanned = plan.bytesToFetch
    }
}
