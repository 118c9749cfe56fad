import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import HubAPI
public import HubCore
import HubHTTP
import HubPeer
import HubStore
public import HubTransfer
public import Logging

/// Runs `diff` and `sync` for one repo: revision -> commit, tree -> manifest, manifest vs store ->
/// plan, plan -> verified transfer -> atomic publication.
public final class Syncer: Sendable {
    public let request: SyncRequest
    public let api: HubAPIClient
    let logger: Logger
    /// Tag names from the authority's catalog (with `--authority`), for repo-info.json.
    let authorityTagNames = Locked<[String]?>(nil)

    public init(request: SyncRequest, logger: Logger = Logger(label: "hubmirror.sync")) {
        self.request = request
        self.api = HubAPIClient(endpoint: request.endpoint, credentials: request.credentials, retry: request.transfer.retry, logger: logger)
        self.logger = logger
    }

    var repo: RepoRef { request.repo }

    /// The commit a revision points at upstream, and the repo's visibility. A full sha whose
    /// manifest is already saved needs no request at all.
    func resolve(_ target: any SyncTarget, revision: String, fresh: Bool) throws -> (commit: String, info: RevisionInfo?) {
        if !fresh && Revision.isCommitSHA(revision) && target.savedManifest(commit: revision) != nil {
            return (revision, nil)
        }
        if let authority = request.authority {
            let (commit, entry) = try AuthorityCatalog.resolve(repo, revision: revision, at: authority)
            authorityTagNames.withLock { $0 = entry.tags.keys.sorted() }
            return (commit, RevisionInfo(id: repo.id.description, sha: commit, isPrivate: entry.private, gated: entry.gated ? "manual" : nil))
        }
        let info = try api.revisionInfo(repo, revision: revision)
        return (info.sha, info)
    }

    /// The full manifest of a commit: saved by an earlier sync (commits never change), else listed.
    func manifest(_ target: any SyncTarget, commit: String, fresh: Bool) throws -> Manifest {
        if !fresh, let m = target.savedManifest(commit: commit) { return m }
        if let authority = request.authority { return try AuthorityCatalog.manifest(repo, commit: commit, at: authority) }
        return try api.manifest(repo, commit: commit)
    }

    /// The plan for bringing the store to `revision` (or comparing commit `from` with it).
    public func plan(from: String? = nil, fresh: Bool = false) throws -> (plan: Plan, full: Manifest, info: RevisionInfo?) {
        let target = request.makeTarget()
        try Revision.validate(request.revision)
        let (commit, info) = try resolve(target, revision: request.revision, fresh: fresh)
        let full = try manifest(target, commit: commit, fresh: fresh)
        let wanted = full.filtered(request.filter)
        try checkFilterSelects(wanted, of: full)
        let local: Manifest?
        if let from {
            try Revision.validate(from)
            let (fromCommit, _) = try resolve(target, revision: from, fresh: false)
            local = try manifest(target, commit: fromCommit, fresh: false).filtered(request.filter)
            return (Differ.plan(local: local, remote: wanted), full, info)
        }
        // The revision's own snapshot, else the last one published (a branch synced before by sha or tag).
        let localCommit = target.localCommit(revision: request.revision) ?? target.latestCommit()
        local = localCommit.flatMap { target.heldManifest(commit: $0) }?.filtered(request.filter)
        let byEtag = Dictionary(wanted.entries.map { ($0.etag, $0) }, uniquingKeysWith: { a, _ in a })
        let cache: CacheStore? = { if case .cache(let root) = request.location { return CacheStore(root: root) } else { return nil } }()
        let plan = Differ.plan(local: local, remote: wanted) { etag in
            guard let e = byEtag[etag] else { return false }
            if target.hasContent(e) { return true }
            return cache?.findBlob(etag: etag, size: e.size, preferring: repo) != nil
        }
        return (plan, full, info)
    }

    /// Applies the plan: fetches what is missing, verifies it, publishes the snapshot and ref.
    public func sync(dryRun: Bool = false, onEvent: @escaping @Sendable (TransferEvent) -> Void = { _ in }) throws -> (SyncResult, Plan) {
        let started = Date()
        let target = request.makeTarget()
        let lock = dryRun ? nil : try target.lock()
        let newRefName = target.localCommit(revision: request.revision) == nil
        defer { lock?.unlock() }
        var (plan, full, info) = try self.plan()
        var result = SyncResult(request: request, commit: full.commit, plan: plan)
        result.dryRun = dryRun
        func finish() -> (SyncResult, Plan) {
            result.apiRequests = api.requestCount
            result.seconds = Date().timeIntervalSince(started)
            return (result, plan)
        }
        if dryRun { return finish() }
        if case .cache(let root) = request.location {
            try FS.mkdirs(root)
            if !FS.exists(root + "/CACHEDIR.TAG") { try? FS.writeAtomically(Array(CacheDirTag.text.utf8), to: root + "/CACHEDIR.TAG") }
        }
        let newFolder = NewRepoFolder.before(request.location, repo: repo)
        do {
            try refuseLocalEdits(target, full.filtered(request.filter))
            recordVisibilityBeforeFetching(info)
            var replanned = false
            var fetched: [FetchedFile] = []
            while true {
                // Whatever the store lacks is fetched once per content; content another repo of the
                // same cache holds is linked instead.
                var seen = Set<String>()
                var fetches = full.filtered(request.filter).entries.filter { seen.insert($0.etag).inserted && !target.hasContent($0) }
                fetches = fetches.filter { !target.adoptFromElsewhere($0) }
                try target.checkRoom(for: fetches)
                // A file that changed upstream is not a failure yet: on the first round the repo is
                // listed again, so its event waits until it is known which it is.
                let held = replanned ? nil : HeldChangeEvents(onEvent)
                var fetch = FetchRequest.hub(repo: repo, commit: full.commit, entries: fetches, endpoint: request.endpoint, token: request.token)
                var options = request.transfer
                var peerSources: PeerSources? = nil
                var planned: PartialFolder? = nil
                if !fetches.isEmpty && (!request.peers.isEmpty || request.authority != nil) {
                    let p = PeerSources(fetches, request: request, commit: full.commit, logger: logger)
                    fetch.sources = p.sources
                    p.watch.start()
                    peerSources = p
                    planned = plannedFolder()
                    if let planned { try? PlannedFetches.write(Dictionary(fetches.map { ($0.etag, $0.size) }, uniquingKeysWith: { a, _ in a }), in: planned) }
                    if let me = request.advertise {
                        // The fleet splits work on the protocol's chunk grid, whatever --chunk-size says.
                        options.fleet = Fleet(me: PeerProtocol.base(me))
                        options.chunkSize = Rendezvous.gridSize
                    }
                }
                let report = ContentFetcher(options: options, logger: logger).fetch(fetch, into: target, onEvent: held?.handle ?? onEvent)
                peerSources?.watch.stop()
                if let planned { PlannedFetches.remove(in: planned) }
                result.bytesReceived += report.bytesReceived
                result.record(report)
                result.bytesResumed += report.resumedBytes
                result.filesFetched += report.fetched.count
                fetched += report.fetched
                if report.interrupted {
                    throw HubError(.interrupted, "sync of \(repo) interrupted; \(ByteSize.format(report.bytesReceived)) received this run, partial data kept for resume")
                }
                if report.failures.isEmpty { break }
                if !replanned && report.failures.allSatisfy({ $0.error.kind == HubError.Kind.upstreamChanged }) {
                    // Files changed between listing and download: list again and fetch the new state,
                    // never mixing bytes of two versions.
                    replanned = true
                    held?.releaseAsRetries(listing: request.revision)
                    logger.warning("\(report.failures.count) file(s) of \(repo) changed upstream; listing \(request.revision) again")
                    let (newPlan, newFull, newInfo) = try self.plan(fresh: true)
                    info = newInfo ?? info
                    full = newFull
                    plan = newPlan
                    let carried = result
                    result = SyncResult(request: request, commit: full.commit, plan: plan)
                    result.bytesReceived = carried.bytesReceived
                    result.bytesResumed = carried.bytesResumed
                    result.filesFetched = carried.filesFetched
                    result.bytesBySource = carried.bytesBySource
                    result.strikes = carried.strikes
                    result.unusableSources = carried.unusableSources
                    result.dryRun = false
                    continue
                }
                held?.releaseAsFailures()
                throw Self.summarize(report.failures, repo: repo)
            }
            // Digests learnt while fetching go into the saved manifest.
            let learnt = Dictionary(fetched.map { ($0.entry.etag, $0.entry) }, uniquingKeysWith: { a, _ in a })
            for i in full.entries.indices {
                guard let e = learnt[full.entries[i].etag] else { continue }
                if full.entries[i].sha256 == nil { full.entries[i].sha256 = e.sha256 }
                if full.entries[i].chunks == nil { full.entries[i].chunks = e.chunks }
            }
            let wanted = full.filtered(request.filter)
            let overwritten = try target.checkOverwrites(publishing: wanted, force: request.force)
            if !overwritten.isEmpty { result.overwritten = overwritten }
            try target.publish(plan: plan, target: wanted, full: full, revision: request.revision)
            if case .cache(let root) = request.location, let info {
                try? RepoInfoRecord.save(info, repo: repo, revision: request.revision, newRef: newRefName,
                                         store: CacheStore(root: root), endpoint: request.authority?.url ?? request.endpoint, api: api,
                                         knownTags: request.authority == nil ? nil : authorityTagNames.withLock { $0 } ?? [])
            }
        } catch {
            newFolder?.abandon()
            throw error
        }
        result.upToDate = plan.isNoop && result.bytesReceived == 0
        return finish()
    }

    /// Where a sync in peer mode records what it is about to fetch, so that its mirror's peers wait for
    /// it instead of asking the upstream (only a cache is served to peers).
    func plannedFolder() -> PartialFolder? {
        guard case .cache(let root) = request.location else { return nil }
        return PartialFolder(state: CacheStore(root: root).stateDirectory(repo), use: .sync)
    }

    /// A first sync into a cache records the repo's visibility before any byte arrives: peers may take
    /// content of the repo from this mirror while it is still downloading it, and the mirror's peer
    /// routes hand out nothing of a repo whose visibility is not on record.
    func recordVisibilityBeforeFetching(_ info: RevisionInfo?) {
        guard case .cache(let root) = request.location, let info else { return }
        RepoInfoRecord.saveVisibility(info, repo: repo, store: CacheStore(root: root), endpoint: request.authority?.url ?? request.endpoint)
    }

    /// A filter that selects no file of a revision that has files is almost surely a typo: refused
    /// (usage) before anything is fetched or published.
    func checkFilterSelects(_ wanted: Manifest, of full: Manifest) throws {
        let filter = request.filter
        guard !filter.isEverything, wanted.entries.isEmpty, !full.entries.isEmpty else { return }
        var parts: [String] = []
        if !filter.include.isEmpty { parts.append("--include " + filter.include.map { "'\($0)'" }.joined(separator: " ")) }
        if !filter.exclude.isEmpty { parts.append("--exclude " + filter.exclude.map { "'\($0)'" }.joined(separator: " ")) }
        throw HubError(.usage, "\(parts.joined(separator: " ")) select(s) none of the \(full.entries.count) files of \(repo) @ \(request.revision) "
                       + "(commit \(full.commit)); nothing was changed. Check the patterns (`hubmirror diff` lists the files)")
    }

    /// `--local-dir` without `--force`: refuses before fetching anything when publishing would overwrite
    /// or remove a file changed there since it was written (`publish` checks again at the end).
    func refuseLocalEdits(_ target: any SyncTarget, _ wanted: Manifest) throws {
        guard !request.force else { return }
        _ = try target.checkOverwrites(publishing: wanted, force: false)
    }

    /// One error for several failed files: the most serious kind wins; the message lists them.
    static func summarize(_ failures: [(label: String, error: HubError)], repo: RepoRef) -> HubError {
        if failures.count == 1 { return failures[0].error }
        let order: [HubError.Kind] = [.diskFull, .readOnly, .store, .unsafePath, .verification, .upstreamChanged, .gated, .unauthorized, .entryNotFound, .rateLimited, .network, .http, .protocolViolation]
        let worst = order.first { k in failures.contains { $0.error.kind == k } } ?? failures[0].error.kind
        let lines = failures.prefix(5).map { "  \($0.error.message)" }.joined(separator: "\n")
        let more = failures.count > 5 ? "\n  … and \(failures.count - 5) more" : ""
        return HubError(worst, "\(failures.count) files of \(repo) failed; nothing was published, verified files and partial data are kept:\n\(lines)\(more)")
    }
}
