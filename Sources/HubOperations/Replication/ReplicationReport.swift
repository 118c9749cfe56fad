import HubCore
import HubSync
public import HubTransfer

/// What one `replicate` run did (`--json` prints it as one document; Docs/commands.md).
public struct ReplicationReport: Codable, Sendable {
    /// One ref's outcome.
    public struct Ref: Codable, Sendable {
        public var ref: String
        /// `branch`, `tag` or `pr`.
        public var kind: String
        /// `add`, `move`, `refill`, `unchanged`, `kept` or `delete` (RefAction.Kind).
        public var action: String
        public var from: String?
        public var to: String?
        /// `ok`, `failed` or `skipped` (the run was interrupted before it).
        public var status: String
        public var bytesReceived: Int64 = 0
        public var filesFetched = 0
        public var error: String?
        public var errorKind: String?
    }

    /// One repo's outcome: its refs, the bytes they moved and where from.
    public struct Repo: Codable, Sendable {
        public var type: String
        public var id: String
        /// `ok`, `failed` (a ref failed or the catalog entry was refused) or `skipped` (interrupted).
        public var status: String
        public var isPrivate: Bool
        public var gated: Bool
        public var refs: [Ref] = []
        /// Refs of the catalog entry refused, with the reason.
        public var rejected: [String]?
        /// Refs per action: `add`, `move`, `refill`, `unchanged`, `kept`, `delete`.
        public var counts: [String: Int] = [:]
        public var bytesReceived: Int64 = 0
        public var filesFetched = 0
        /// Bytes received per source (`peer http://…`); nil when none were.
        public var bytesBySource: [String: Int64]?
        /// Every time a source failed for a file, with the reason.
        public var strikes: [SourceStrike]?
        /// Sources not asked again, with the last reason.
        public var unusableSources: [String: String]?
        public var error: String?
        public var exitCode: Int32?

        /// True when nothing changed here: every ref unchanged or kept, and nothing failed.
        public var upToDate: Bool { status == "ok" && refs.allSatisfy { $0.action == "unchanged" || $0.action == "kept" } }

        mutating func add(_ ref: Ref, result: SyncResult?) {
            refs.append(ref)
            counts[ref.action, default: 0] += 1
            guard let r = result else { return }
            bytesReceived += r.bytesReceived
            filesFetched += r.filesFetched
            ProvenanceTotals.add(r.bytesBySource, to: &bytesBySource)
            if let s = r.strikes { strikes = (strikes ?? []) + s }
            if let u = r.unusableSources { unusableSources = (unusableSources ?? [:]).merging(u) { _, b in b } }
        }
    }

    /// The peer replicated from (credentials never included).
    public var from: String
    public var store: String
    public var started: Double
    public var finished: Double = 0
    public var repos: [Repo] = []
    /// `--repo` globs that selected no repo of the catalog (or one the peer token does not grant).
    public var unmatched: [String]?
    /// Catalog entries that are not repos, skipped.
    public var invalid: [String]?
    public var bytesReceived: Int64 = 0
    /// Bytes per source over all repos.
    public var bytesBySource: [String: Int64]?
    /// True when the run changed nothing.
    public var upToDate = false
    /// 0, 51 (some repos failed), 52 (all failed), 130 (interrupted).
    public var exitCode: Int32 = 0

    public var succeeded: Int { repos.filter { $0.status == "ok" }.count }
    public var failed: Int { repos.filter { $0.status == "failed" }.count }

    /// Totals and the exit code, from the repos.
    mutating func finish(interrupted: Bool, at time: Double) {
        finished = time
        bytesReceived = repos.reduce(0) { $0 + $1.bytesReceived }
        for r in repos { ProvenanceTotals.add(r.bytesBySource, to: &bytesBySource) }
        upToDate = !interrupted && repos.allSatisfy(\.upToDate)
        exitCode = interrupted ? HubError.Kind.interrupted.exitCode
            : failed == 0 ? 0
            : succeeded == 0 ? HubError.Kind.failed.exitCode
            : HubError.Kind.partial.exitCode
    }
}
