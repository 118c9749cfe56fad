import Testing
import Foundation
import HubCore

@Suite struct DifferTests {
    func item(_ plan: Plan, _ path: String) throws -> PlanItem {
        try #require(plan.items.first { $0.path == path }, "no plan item for \(path)")
    }

    @Test func nilLocalAddsEverything() throws {
        let remote = manifest(commitA, [file("a", "1", size: 5), lfsFile("w.bin", "2", size: 100)])
        let plan = Differ.plan(local: nil, remote: remote)
        #expect(plan.fromCommit == nil)
        #expect(plan.toCommit == commitA)
        #expect(plan.repo == remote.repo)
        #expect(plan.items.map(\.kind) == [.added, .added])
        #expect(plan.items.allSatisfy { $0.fetch })
        #expect(plan.bytesToFetch == 105)
        #expect(plan.fetches.map(\.path) == ["a", "w.bin"])
        #expect(!plan.isNoop)
        #expect(plan.counts[.added] == 2)
        #expect(plan.counts[.deleted] == 0)
        #expect(plan.counts.count == ChangeKind.allCases.count)
    }

    @Test func allKinds() throws {
        let local = manifest(commitA, [
            file("same", "1", size: 1),
            file("edit", "2", size: 2),
            file("gone", "3", size: 3),
            file("old-name", "4", size: 4),
        ])
        let remote = manifest(commitB, [
            file("same", "1", size: 1),
            file("edit", "5", size: 50),
            file("new-name", "4", size: 4),
            file("fresh", "6", size: 60),
        ])
        let plan = Differ.plan(local: local, remote: remote)
        #expect(plan.fromCommit == commitA)
        #expect(plan.toCommit == commitB)
        #expect(plan.items.map(\.path) == ["edit", "fresh", "gone", "new-name", "same"], "items sorted by path")

        let same = try item(plan, "same")
        #expect(same.kind == .unchanged)
        #expect(!same.fetch)
        #expect(same.previous == local.entry(at: "same"))

        let edit = try item(plan, "edit")
        #expect(edit.kind == .changed)
        #expect(edit.fetch)
        #expect(edit.previous?.etag == hex40("2"))
        #expect(edit.entry?.etag == hex40("5"))
        #expect(edit.bytesToFetch == 50)

        let gone = try item(plan, "gone")
        #expect(gone.kind == .deleted)
        #expect(gone.entry == nil)
        #expect(gone.previous?.path == "gone")
        #expect(!gone.fetch)
        #expect(gone.bytesToFetch == 0)

        let renamed = try item(plan, "new-name")
        #expect(renamed.kind == .renamed)
        #expect(renamed.fromPath == "old-name")
        #expect(!renamed.fetch)
        #expect(renamed.bytesToFetch == 0)
        #expect(plan.items.first { $0.path == "old-name" } == nil, "a renamed-away path is not also deleted")

        let fresh = try item(plan, "fresh")
        #expect(fresh.kind == .added)
        #expect(fresh.fetch)

        #expect(plan.bytesToFetch == 110)
        #expect(plan.fetches.map(\.path) == ["edit", "fresh"])
        #expect(plan.counts == [.added: 1, .changed: 1, .deleted: 1, .renamed: 1, .unchanged: 1])
        #expect(plan.items(.renamed).map(\.path) == ["new-name"])
        #expect(!plan.isNoop)
    }

    @Test func sizeChangeWithSameEtagIsChanged() throws {
        let plan = Differ.plan(local: manifest(commitA, [file("a", "1", size: 1)]), remote: manifest(commitB, [file("a", "1", size: 2)]))
        #expect(try item(plan, "a").kind == .changed)
    }

    @Test func identicalIsNoop() {
        let m = manifest(commitA, [file("a", "1"), lfsFile("b", "2")])
        let plan = Differ.plan(local: m, remote: m)
        #expect(plan.isNoop)
        #expect(plan.bytesToFetch == 0)
        #expect(plan.fetches.isEmpty)
        #expect(plan.counts[.unchanged] == 2)
    }

    @Test func renameWhenTwoFilesShareContent() throws {
        // x and y hold the same content; x moves to z, y stays.
        let local = manifest(commitA, [file("x", "1"), file("y", "1")])
        let remote = manifest(commitB, [file("y", "1"), file("z", "1")])
        let plan = Differ.plan(local: local, remote: remote)
        #expect(try item(plan, "y").kind == .unchanged)
        let z = try item(plan, "z")
        #expect(z.kind == .renamed)
        #expect(z.fromPath == "x")
        #expect(plan.items(.deleted).isEmpty)
        #expect(plan.bytesToFetch == 0)
    }

    @Test func twoVanishedCopiesExplainTwoRenames() throws {
        let local = manifest(commitA, [file("a", "1"), file("b", "1")])
        let remote = manifest(commitB, [file("c", "1"), file("d", "1")])
        let plan = Differ.plan(local: local, remote: remote)
        #expect(plan.items.map(\.kind) == [.renamed, .renamed])
        #expect(Set(plan.items.compactMap(\.fromPath)) == ["a", "b"])
        #expect(plan.items(.deleted).isEmpty)
    }

    @Test func oneSourceTwoNewPathsRenameAndAddWithoutFetch() throws {
        let local = manifest(commitA, [file("a", "1")])
        let remote = manifest(commitB, [file("b", "1"), file("c", "1")])
        let plan = Differ.plan(local: local, remote: remote)
        #expect(try item(plan, "b").kind == .renamed)
        let c = try item(plan, "c")
        #expect(c.kind == .added)
        #expect(!c.fetch, "content held by a local path is not fetched")
        #expect(plan.bytesToFetch == 0)
    }

    @Test func contentHeldElsewhereIsNotFetched() throws {
        // A copy of content still present at another local path.
        let local = manifest(commitA, [file("keep", "1", size: 7)])
        let remote = manifest(commitB, [file("keep", "1", size: 7), file("copy", "1", size: 7)])
        let plan = Differ.plan(local: local, remote: remote)
        let copy = try item(plan, "copy")
        #expect(copy.kind == .added)
        #expect(!copy.fetch)
        #expect(plan.bytesToFetch == 0)
    }

    @Test func haveContentSuppressesFetch() throws {
        let remote = manifest(commitB, [lfsFile("w.bin", "2", size: 100), file("a", "3", size: 4)])
        var asked: [String] = []
        let plan = Differ.plan(local: nil, remote: remote) { etag in
            asked.append(etag)
            return etag == hex64("2")
        }
        #expect(asked.contains(hex64("2")))
        #expect(try !item(plan, "w.bin").fetch)
        #expect(try item(plan, "w.bin").kind == .added)
        #expect(try item(plan, "a").fetch)
        #expect(plan.bytesToFetch == 4)
    }

    @Test func sameNewContentAtTwoPathsFetchedOnce() throws {
        let remote = manifest(commitB, [lfsFile("a.bin", "7", size: 100), lfsFile("b.bin", "7", size: 100), file("c", "8", size: 3)])
        let plan = Differ.plan(local: nil, remote: remote)
        #expect(plan.items.map(\.kind) == [.added, .added, .added])
        #expect(plan.items.filter(\.fetch).map(\.path) == ["a.bin", "c"])
        #expect(plan.bytesToFetch == 103)
        #expect(plan.fetches.map(\.etag) == [hex64("7"), hex40("8")])
    }

    @Test func changedToContentHeldElsewhere() throws {
        let local = manifest(commitA, [file("a", "1"), file("b", "2")])
        let remote = manifest(commitB, [file("a", "2"), file("b", "2")])
        let plan = Differ.plan(local: local, remote: remote)
        let a = try item(plan, "a")
        #expect(a.kind == .changed)
        #expect(!a.fetch)
    }

    @Test func everythingDeleted() {
        let plan = Differ.plan(local: manifest(commitA, [file("a", "1"), file("b", "2")]), remote: manifest(commitB, []))
        #expect(plan.items.map(\.kind) == [.deleted, .deleted])
        #expect(plan.bytesToFetch == 0)
        #expect(!plan.isNoop)
    }

    @Test func planIsCodable() throws {
        let plan = Differ.plan(local: manifest(commitA, [file("a", "1")]), remote: manifest(commitB, [file("b", "1"), file("c", "2")]))
        let back = try JSONDecoder().decode(Plan.self, from: try JSONEncoder().encode(plan))
        #expect(back == plan)
    }
}
