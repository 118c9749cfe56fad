import HubCore
import HubOperations
import HubPeer
import Testing

/// The pure part of `replicate`: a catalog and the store's refs -> one step per ref, no sockets.
@Suite struct ReplicationPlanTests {
    static let c1 = String(repeating: "1", count: 40), c2 = String(repeating: "2", count: 40), c3 = String(repeating: "3", count: 40)

    func entry(_ id: String = "acme/a", type: String = "model", branches: [String: String] = [:], tags: [String: String] = [:],
               prs: [String: String] = [:], isPrivate: Bool = false) -> PeerCatalog.Repo {
        PeerCatalog.Repo(type: type, id: id, branches: branches, tags: tags, pullRequests: prs, private: isPrivate, gated: false)
    }

    func steps(_ p: RepoReplicationPlan) -> [String: RefAction.Kind] {
        Dictionary(uniqueKeysWithValues: p.actions.map { ($0.ref, $0.action) })
    }

    func plan(_ e: PeerCatalog.Repo, delete: Bool = false, _ local: LocalRepoState) -> RepoReplicationPlan {
        ReplicationPlanner.plan(e, repo: RepoRef(type: RepoType(parsing: e.type)!, id: try! RepoID(e.id)), delete: delete, local: local)
    }

    @Test func anEmptyStoreAddsEveryRefWithItsKind() {
        let p = plan(entry(branches: ["main": Self.c1], tags: ["v1": Self.c2], prs: ["refs/pr/3": Self.c3]), LocalRepoState())
        #expect(steps(p) == ["main": .add, "v1": .add, "refs/pr/3": .add])
        #expect(p.actions.map(\.kind) == [.branch, .pullRequest, .tag], "sorted by ref name")
        #expect(p.actions.allSatisfy { $0.from == nil && $0.to != nil && $0.syncs })
        #expect(p.tags == ["v1"] && !p.isNoop)
    }

    @Test func unchangedMovedRefilledKeptAndDeleted() {
        let e = entry(branches: ["main": Self.c2, "dev": Self.c1], tags: ["v1": Self.c1])
        let local = LocalRepoState(refs: ["main": Self.c1, "dev": Self.c1, "v1": Self.c1, "old": Self.c3, "v0": Self.c3, "refs/convert/parquet": Self.c3],
                                   complete: [Self.c3], tags: ["v0"])
        let kept = plan(e, local)
        #expect(steps(kept) == ["main": .move, "dev": .refill, "v1": .refill, "old": .kept, "v0": .kept],
                "c1 is incomplete here; refs/convert/... is not the peer's to remove")
        #expect(kept.actions.first { $0.ref == "main" }.map { [$0.from, $0.to] } == [Self.c1, Self.c2])
        #expect(kept.actions.first { $0.ref == "v0" }?.kind == .tag && kept.actions.first { $0.ref == "old" }?.kind == .branch)
        let deleted = plan(e, delete: true, LocalRepoState(refs: local.refs, complete: [Self.c1, Self.c3], tags: ["v0"]))
        #expect(steps(deleted) == ["main": .move, "dev": .unchanged, "v1": .unchanged, "old": .delete, "v0": .delete])
        #expect(deleted.actions.filter { !$0.syncs }.map(\.ref) == ["dev", "old", "v0", "v1"])
    }

    @Test func aStoreEqualToThePeerIsANoop() {
        let e = entry(branches: ["main": Self.c1], tags: ["v1": Self.c1], prs: ["refs/pr/1": Self.c2])
        let p = plan(e, LocalRepoState(refs: ["main": Self.c1, "v1": Self.c1, "refs/pr/1": Self.c2], complete: [Self.c1, Self.c2], tags: ["v1"]))
        #expect(p.isNoop && p.actions.allSatisfy { $0.action == .unchanged })
        // Kept refs still count as nothing to do.
        let withGone = plan(e, LocalRepoState(refs: ["main": Self.c1, "v1": Self.c1, "refs/pr/1": Self.c2, "gone": Self.c3], complete: [Self.c1, Self.c2]))
        #expect(withGone.isNoop)
    }

    @Test func refsAPeerCannotMakeUsWriteAreRefused() {
        let e = entry(branches: ["../../etc": Self.c1, "refs/convert/parquet": Self.c1, "ok": Self.c1, "bad-commit": "HEAD", Self.c2: Self.c2],
                      tags: ["ok": Self.c2, "t\u{1}": Self.c1], prs: ["refs/pr/x": Self.c1, "refs/heads/main": Self.c1, "refs/pr/12": Self.c1])
        let p = plan(e, LocalRepoState())
        #expect(steps(p) == ["ok": .add, "refs/pr/12": .add])
        #expect(p.rejected.count == 8 && !p.isNoop, "\(p.rejected)")
        #expect(p.rejected.contains { $0.contains("../../etc") } && p.rejected.contains { $0.contains("more than one kind") })
    }

    @Test func selectionByGlobAndType() {
        let catalog = [entry("acme/a"), entry("acme/b", type: "dataset"), entry("other/c"), entry("x", type: "nonsense"), entry("acme/a")]
        let all = ReplicationPlanner.plan(catalog: catalog, selection: ReplicationSelection(), delete: false) { _ in LocalRepoState() }
        #expect(all.repos.map { "\($0.repo.type.rawValue) \($0.repo.id)" } == ["dataset acme/b", "model acme/a", "model other/c"])
        #expect(all.repos.count == 3 && all.invalid.count == 2, "a bad type and a repeated entry: \(all.invalid)")
        let acme = ReplicationSelection(globs: ["acme/*", "nobody*"])
        #expect(ReplicationPlanner.plan(catalog: catalog, selection: acme, delete: false) { _ in LocalRepoState() }.repos.map(\.repo.id.description).sorted() == ["acme/a", "acme/b"])
        #expect(acme.unmatched(in: catalog) == ["nobody*"])
        let models = ReplicationSelection(globs: ["acme/*"], type: .model)
        #expect(ReplicationPlanner.plan(catalog: catalog, selection: models, delete: false) { _ in LocalRepoState() }.repos.map(\.repo.id.description) == ["acme/a"])
        #expect(ReplicationSelection(globs: ["acme/b"], type: .model).unmatched(in: catalog) == ["acme/b"], "the type applies to the glob too")
    }
}
