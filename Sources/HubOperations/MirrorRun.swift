import Foundation
import HubCore
import HubHTTP
public import HubMaintenance
import HubStore
import HubPeer
public import HubSync
public import HubTransfer
public import Logging

/// The JSON report of one `mirror` run, written to `<state_dir>/runs/<time>.json` and
/// `<state_dir>/last-run.json` (Docs/mirror.md).
public struct MirrorReport: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var repo: String
        public var type: String
        public var revision: String
        /// `ok`, `failed`, or `skipped` (the run was interrupted before it).
        public var status: String
        public var result: SyncResult?
        public var error: String?
        public var errorKind: String?
        public var exitCode: Int32?
    }

    public var config: String
    public var store: String
    public var endpoint: String
    public var started: Double
    public var finished: Double = 0
    public var entries: [Entry] = []
    public var gc: CollectionReport?
    /// The run's exit code: 0, 51 (some failed), 52 (all failed), 130 (interrupted).
    public var exitCode: Int32 = 0
    /// Bytes received per source (`upstream http://…`, `peer http://…`) over every entry; nil when none were.
    public var bytesBySource: [String: Int64]?
    /// How many times each source was struck (failed for a file) over every entry; each strike and its
    /// reason is in its entry's `result.strikes`.
    public var strikesBySource: [String: Int]?

    public var succeeded: Int { entries.filter { $0.status == "ok" }.count }

    /// The run-wide provenance totals, from the entries.
    mutating func totalProvenance() {
        for r in entries.compactMap(\.result) {
            ProvenanceTotals.add(r.bytesBySource, to: &bytesBySource)
            for s in r.strikes ?? [] { strikesBySource = (strikesBySource ?? [:]).merging([s.source: 1], uniquingKeysWith: +) }
        }
    }
    public var failed: Int { entries.filter { $0.status == "failed" }.count }
}

/// One cron run over a `MirrorConfig`: takes the run lock, syncs every repo at every revision (a
/// failure is recorded and the run goes on), applies the retention, and writes the report.
public struct MirrorRunner: Sendable {
    public let config: MirrorConfig
    public let configPath: String
    public let cacheDir: String
    public let endpoint: String
    public let token: String?
    public let transfer: TransferOptions
    /// The token for the config's peers (from `peer_token_file`), never the endpoint's.
    public var peerToken: String? = nil
    /// Tokens of single peers (`[[peer]]` token_file), by peer URL; they win over `peerToken`.
    public var peerTokens: [String: String] = [:]
    let logger: Logger

    /// - Parameters: `cacheDir`, `endpoint`, `token`: already resolved (config, then environment).
    public init(config: MirrorConfig, configPath: String, cacheDir: String, endpoint: String, token: String?,
                transfer: TransferOptions, logger: Logger = Logger(label: "hubmirror.mirror")) {
        self.config = config
        self.configPath = configPath
        self.cacheDir = cacheDir
        self.endpoint = endpoint
        self.token = token
        self.transfer = transfer
        self.logger = logger
    }

    /// Where the run lock and reports live: `state_dir`, else `hubmirror/` beside the cache folder.
    public var stateDir: String {
        config.stateDir ?? ((cacheDir as NSString).deletingLastPathComponent + "/hubmirror")
    }

    /// Runs once. Throws `.lockHeld` when another run holds the lock; every other failure is in the report.
    public func run(onEntry: @escaping @Sendable (MirrorReport.Entry) -> Void = { _ in },
                    onEvent: @escaping @Sendable (TransferEvent) -> Void = { _ in }) throws -> MirrorReport {
        try FS.mkdirs(stateDir)
        let lock = try FileLock(path: stateDir + "/mirror.lock", what: "the mirror run of \(configPath)")
        defer { lock.unlock() }
        var report = MirrorReport(config: configPath, store: cacheDir, endpoint: Redact.url(endpoint), started: Date().timeIntervalSince1970)
        var interrupted = false
        for r in config.repos {
            for rev in r.revisions {
                var entry = MirrorReport.Entry(repo: r.repo.id.description, type: r.repo.type.rawValue, revision: rev, status: "skipped")
                if interrupted || transfer.shouldStop() {
                    interrupted = true
                    report.entries.append(entry)
                    continue
                }
                var request = SyncRequest(repo: r.repo, revision: rev, filter: r.filter, endpoint: endpoint, token: token,
                                          location: .cache(cacheDir), transfer: transfer)
                request.peers = (r.peers ?? config.peers).map { PeerEndpoint(url: $0, token: peerTokens[$0] ?? peerToken) }
                if !request.peers.isEmpty { request.advertise = config.advertise }
                do {
                    let (result, _) = try Syncer(request: request, logger: logger).sync(onEvent: onEvent)
                    entry.status = "ok"
                    entry.result = result
                } catch let e as HubError {
                    entry.status = "failed"
                    entry.error = e.message
                    entry.errorKind = e.kind.rawValue
                    entry.exitCode = e.exitCode
                    if e.kind == .interrupted { interrupted = true }
                } catch {
                    entry.status = "failed"
                    entry.error = "\(error)"
                    entry.errorKind = HubError.Kind.store.rawValue
                    entry.exitCode = HubError.Kind.store.exitCode
                }
                onEntry(entry)
                report.entries.append(entry)
            }
        }
        if let keep = config.keepUnreferenced, !interrupted {
            // Retention only for repos whose every revision synced: never drop what a failed run may still need.
            let healthy = config.repos.filter { r in report.entries.allSatisfy { $0.repo != r.repo.id.description || $0.type != r.repo.type.rawValue || $0.status == "ok" } }
            do {
                report.gc = try GarbageCollector(store: CacheStore(root: cacheDir), keepUnreferenced: keep, grace: config.grace).collect(healthy.map(\.repo))
            } catch let e as HubError {
                logger.error("retention: \(e.message)")
            }
        }
        report.finished = Date().timeIntervalSince1970
        report.totalProvenance()
        report.exitCode = interrupted ? HubError.Kind.interrupted.exitCode
            : report.failed == 0 ? 0
            : report.succeeded == 0 ? HubError.Kind.failed.exitCode
            : HubError.Kind.partial.exitCode
        try write(report)
        return report
    }

    func write(_ report: MirrorReport) throws {
        let data = try JSON.encode(report)
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        f.timeZone = TimeZone(identifier: "UTC")
        try FS.writeAtomically(data, to: stateDir + "/runs/\(f.string(from: Date(timeIntervalSince1970: report.started))).json")
        try FS.writeAtomically(data, to: stateDir + "/last-run.json")
    }
}
