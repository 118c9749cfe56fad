import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HubCore
import HubHTTP
public import HubPeer
import HubStore
import HubSync
public import HubTransfer
public import Logging

/// `hubmirror replicate --from URL`: copies every repo a peer's catalog lists (or the selection) into
/// a cache: each branch, tag and PR ref that is new, moved or incomplete here is brought over by the
/// `Syncer` with the peer as its authority (the one place for the sync rules: verified, published
/// atomically); an unchanged ref costs nothing but its share of the one catalog request. Refs gone
/// from the peer are kept, or with `delete` their ref files removed. A repo failing does not stop the others.
public struct Replicator: Sendable {
    public var from: PeerEndpoint
    /// More peers to take bytes from (the `from` peer is asked first).
    public var peers: [PeerEndpoint] = []
    public var cacheDir: String
    public var selection: ReplicationSelection
    public var delete: Bool
    public var transfer: TransferOptions
    let logger: Logger

    public init(from: PeerEndpoint, cacheDir: String, selection: ReplicationSelection = ReplicationSelection(), delete: Bool = false,
                transfer: TransferOptions = TransferOptions(), logger: Logger = Logger(label: "hubmirror.replicate")) {
        self.from = from
        self.cacheDir = cacheDir
        self.selection = selection
        self.delete = delete
        self.transfer = transfer
        self.logger = logger
    }

    var store: CacheStore { CacheStore(root: cacheDir) }

    /// Runs once. Throws when the peer's catalog cannot be had, or when `--repo` globs select nothing
    /// at all; every other failure is in the report (and its exit code).
    public func run(onRepo: @escaping @Sendable (ReplicationReport.Repo) -> Void = { _ in },
                    onEvent: @escaping @Sendable (TransferEvent) -> Void = { _ in }) throws -> ReplicationReport {
        let catalog = try PeerClient(base: from.url, token: from.token).catalog()
        var report = ReplicationReport(from: Redact.url(PeerProtocol.base(from.url)), store: cacheDir, started: Date().timeIntervalSince1970)
        let (plans, invalid) = ReplicationPlanner.plan(catalog: catalog.repos, selection: selection, delete: delete, local: localState)
        let unmatched = selection.unmatched(in: catalog.repos)
        if !selection.globs.isEmpty && plans.isEmpty {
            throw HubError(.repoNotFound, "no repo at \(report.from) matches --repo \(selection.globs.map { "'\($0)'" }.joined(separator: " "))"
                           + "\(selection.type.map { " --type \($0.rawValue)" } ?? ""), or it is private or gated and --peer-token does not grant access")
        }
        if !unmatched.isEmpty { report.unmatched = unmatched }
        if !invalid.isEmpty { report.invalid = invalid }
        var interrupted = false
        for plan in plans {
            let r = replicate(plan, interrupted: &interrupted, onEvent: onEvent)
            onRepo(r)
            report.repos.append(r)
        }
        report.finish(interrupted: interrupted, at: Date().timeIntervalSince1970)
        return report
    }

    /// What the store holds of `repo`, for the plan.
    func localState(_ repo: RepoRef) -> LocalRepoState {
        let refs = store.refs(repo)
        let target = store.target(repo)
        var complete = Set<String>()
        for commit in Set(refs.values) {
            guard let saved = target.savedManifest(commit: commit), let held = target.heldManifest(commit: commit),
                  held.entries.count == saved.entries.count else { continue }
            complete.insert(commit)
        }
        return LocalRepoState(refs: refs, complete: complete, tags: Set(store.loadRepoInfo(repo)?.tags ?? []))
    }

    /// Carries out one repo's plan; a ref failing is recorded and the others go on.
    func replicate(_ plan: RepoReplicationPlan, interrupted: inout Bool, onEvent: @escaping @Sendable (TransferEvent) -> Void) -> ReplicationReport.Repo {
        var out = ReplicationReport.Repo(type: plan.repo.type.rawValue, id: plan.repo.id.description, status: "ok", isPrivate: plan.isPrivate, gated: plan.gated)
        func fail(_ e: HubError) {
            if out.status != "failed" {
                out.error = e.message
                out.exitCode = e.exitCode
            }
            out.status = "failed"
        }
        if !plan.rejected.isEmpty {
            out.rejected = plan.rejected
            fail(HubError(.protocolViolation, "\(plan.repo): the peer lists \(plan.rejected.count) ref(s) that cannot be written here: \(plan.rejected.joined(separator: "; "))"))
        }
        var removals: [RefAction] = []
        for a in plan.actions {
            var ref = ReplicationReport.Ref(ref: a.ref, kind: a.kind.rawValue, action: a.action.rawValue, from: a.from, to: a.to, status: "ok")
            if interrupted || transfer.shouldStop() {
                interrupted = true
                ref.status = "skipped"
                out.add(ref, result: nil)
                continue
            }
            if a.action == .delete { removals.append(a) }
            guard a.syncs else {
                out.add(ref, result: nil)
                continue
            }
            do {
                let (result, _) = try Syncer(request: syncRequest(plan.repo, ref: a.ref), logger: logger).sync(onEvent: onEvent)
                ref.to = result.commit
                ref.bytesReceived = result.bytesReceived
                ref.filesFetched = result.filesFetched
                out.add(ref, result: result)
            } catch {
                let e = (error as? HubError) ?? HubError(.store, "\(plan.repo)@\(a.ref): \(error)")
                ref.status = "failed"
                ref.error = e.message
                ref.errorKind = e.kind.rawValue
                if e.kind == .interrupted { interrupted = true }
                out.add(ref, result: nil)
                fail(e)
            }
        }
        do {
            try finishRepo(plan, removing: removals)
        } catch {
            let e = (error as? HubError) ?? HubError(.store, "\(plan.repo): \(error)")
            for i in out.refs.indices where out.refs[i].action == RefAction.Kind.delete.rawValue {
                out.refs[i].status = "failed"
                out.refs[i].error = e.message
            }
            fail(e)
        }
        if interrupted && out.refs.contains(where: { $0.status == "skipped" }) && out.status == "ok" { out.status = "skipped" }
        return out
    }

    /// The sync of one ref, with the `from` peer as the authority: nothing is asked of an endpoint.
    func syncRequest(_ repo: RepoRef, ref: String) -> SyncRequest {
        var r = SyncRequest(repo: repo, revision: ref, endpoint: PeerProtocol.base(from.url), location: .cache(cacheDir), transfer: transfer)
        r.authority = from
        r.peers = peers.filter { $0.url != from.url }
        return r
    }

    /// Under the repo's lock: removes the ref files of `removals`, and records the peer's
    /// visibility and tag names (tags gone from the peer but kept here stay tags) when they differ
    /// from what `repo-info.json` says, so that an unchanged repo whose visibility changed is still right.
    func finishRepo(_ plan: RepoReplicationPlan, removing removals: [RefAction]) throws {
        guard store.holds(plan.repo) else { return }
        let lock = try store.target(plan.repo).lock()
        defer { lock.unlock() }
        for a in removals {
            let path = store.refPath(plan.repo, revision: a.ref)
            // Only if it still names the commit planned: a sync since then wins.
            guard store.readRef(plan.repo, revision: a.ref) == a.from else { continue }
            if unlink(path) != 0 && errno != ENOENT { throw FS.error("remove ref", path) }
            FS.removeEmptyParents(of: path, upTo: store.repoDirectory(plan.repo) + "/refs")
        }
        let kept = plan.actions.filter { $0.action == .kept && $0.kind == .tag }.map(\.ref)
        let tags = Set(plan.tags + kept).filter { store.readRef(plan.repo, revision: $0) != nil }.sorted()
        let old = store.loadRepoInfo(plan.repo)
        var info = old ?? RepoInfo(repo: plan.repo, endpoint: Redact.url(PeerProtocol.base(from.url)), lastSync: Date().timeIntervalSince1970)
        info.isPrivate = plan.isPrivate
        if info.isGated != plan.gated { info.gated = plan.gated ? "manual" : nil }
        info.tags = tags
        if info != old { try store.saveRepoInfo(info) }
    }
}
