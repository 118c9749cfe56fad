import Foundation
import HubCore
import HubAPI
import HubHTTP
public import HubStore
public import HubTransfer
public import Logging

/// Repairs what `StoreVerifier` found, from the upstream the repo was synced from: corrupt blobs are
/// moved to `.hubmirror/quarantine/`, the content every affected snapshot entry needs (per the
/// commit's saved manifest) is fetched again with the verified transfer engine, and the entries are
/// linked to it. A finding counts as repaired only when every entry it names is whole again.
public struct StoreRepairer: Sendable {
    public let store: CacheStore
    /// Upstream to fetch from; nil: the endpoint recorded in the repo's `repo-info.json`.
    public let endpoint: String?
    let token: String?
    let transfer: TransferOptions
    let logger: Logger

    public init(store: CacheStore, endpoint: String?, token: String?, transfer: TransferOptions = TransferOptions(),
                logger: Logger = Logger(label: "hubmirror.verify")) {
        self.store = store
        self.endpoint = endpoint
        self.token = token
        self.transfer = transfer
        self.logger = logger
    }

    /// Repairs every repo of `report` with findings, marking the findings it fixed; transfer events
    /// go to `onEvent`. Takes each repo's lock while it works on it.
    public func repair(_ report: inout VerifyReport, onEvent: @escaping @Sendable (TransferEvent) -> Void = { _ in }) throws {
        for i in report.repos.indices where !report.repos[i].isHealthy {
            let repo = RepoRef(type: RepoType(parsing: report.repos[i].type) ?? .model, id: try RepoID(report.repos[i].repo))
            let lock = try store.target(repo).lock()
            defer { lock.unlock() }
            try repair(repo, &report.repos[i], onEvent: onEvent)
        }
    }

    func repair(_ repo: RepoRef, _ result: inout RepoVerification, onEvent: @escaping @Sendable (TransferEvent) -> Void) throws {
        let target = store.target(repo)
        var manifests: [String: [String: ManifestEntry]] = [:]
        // Findings name entries as `<commit>/<path>`.
        func entry(_ name: String) -> (commit: String, entry: ManifestEntry)? {
            guard let slash = name.firstIndex(of: "/") else { return nil }
            let commit = String(name[..<slash])
            let path = String(name[name.index(after: slash)...])
            if manifests[commit] == nil {
                manifests[commit] = Dictionary((store.loadManifest(repo, commit: commit)?.entries ?? []).map { ($0.path, $0) },
                                               uniquingKeysWith: { a, _ in a })
            }
            return manifests[commit]?[path].map { (commit, $0) }
        }

        // Bad content leaves blobs/ first, so nothing keeps serving it.
        for f in result.findings where f.kind == .corrupt {
            guard let etag = f.etag else { continue }
            let blob = store.blobPath(repo, etag: etag)
            let quarantine = store.stateDirectory(repo) + "/quarantine"
            try FS.mkdirs(quarantine)
            try FS.renameItem(blob, quarantine + "/\(etag).\(Int(Date().timeIntervalSince1970))")
        }

        // What each affected entry must link to, and which of that content is not held any more.
        var wanted: [(commit: String, entry: ManifestEntry)] = []
        var jobs: [String: (commit: String, entry: ManifestEntry)] = [:]
        for f in result.findings {
            for name in f.paths {
                guard let (commit, e) = entry(name) else { continue }
                wanted.append((commit, e))
                if !target.hasContent(e) && !target.adoptFromOtherRepo(e) { jobs[e.etag] = (commit, e) }
            }
        }
        if !jobs.isEmpty {
            let from = try endpoint ?? store.loadRepoInfo(repo)?.endpoint ?? {
                throw HubError(.usage, "\(repo): no endpoint recorded in repo-info.json; pass --endpoint to repair it")
            }()
            let fetcher = ContentFetcher(options: transfer, logger: logger)
            let byCommit = Dictionary(grouping: jobs.values, by: \.commit)
            for commit in byCommit.keys.sorted() {
                let entries = byCommit[commit]!.map(\.entry).sorted { $0.path < $1.path }
                let report = fetcher.fetch(.hub(repo: repo, commit: commit, entries: entries, endpoint: from, token: token), into: target, onEvent: onEvent)
                if report.interrupted { throw HubError(.interrupted, "repair of \(repo) interrupted; partial data kept for resume") }
            }
        }
        for (commit, e) in wanted where target.hasContent(e) {
            try target.link(e, commit: commit)
        }

        // A finding is repaired when every entry it names is a link to verified content again
        // (a corrupt blob nothing linked to is repaired by its removal).
        for i in result.findings.indices {
            let f = result.findings[i]
            let whole = f.paths.allSatisfy { name in
                guard let (commit, e) = entry(name),
                      let held = store.snapshotEntryBlob(repo, commit: commit, path: e.path) else { return false }
                return held.etag == e.etag && held.size == e.size
            }
            if whole { result.findings[i].repaired = true }
        }
    }
}
