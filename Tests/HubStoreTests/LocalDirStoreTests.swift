import Testing
import Foundation
import HubCore
import HubStore

@Suite struct LocalDirStoreTests {
    let a = Content("a.txt", "alpha", blob: "1")
    let b = Content("sub/b.bin", String(repeating: "b", count: 100), blob: "2", lfs: true)
    let d = Content("d.txt", "delta!", blob: "4")

    /// Puts verified content where the transfer engine would.
    func adopt(_ store: LocalDirStore, _ c: Content, tmp: TempDir) throws {
        let src = tmp.sub("download-\(UUID().uuidString)")
        try writeText(c.text, to: src)
        try store.adoptVerified(c.entry, from: src)
        #expect(!exists(src), "adopt moves the file")
    }

    func publish(_ store: LocalDirStore, _ m: Manifest) throws {
        let plan = Differ.plan(local: store.heldManifest(commit: m.commit), remote: m) { _ in true }
        try store.publish(plan: plan, target: m, full: m, revision: "main")
    }

    func checkMetadata(_ root: String, _ c: Content, commit: String, since: Double) throws {
        let text = try #require(readText(root + "/.cache/huggingface/download/\(c.path).metadata"))
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4, "three lines, each ending in a newline")
        #expect(lines[0] == commit)
        #expect(lines[1] == c.entry.etag)
        let ts = try #require(Double(lines[2]), "timestamp is a float")
        #expect(lines[2].contains("."), "written as a float, like Python's time.time()")
        #expect(ts >= since - 1 && ts <= Date().timeIntervalSince1970 + 1)
        // The client trusts the metadata only when mtime - 1 <= timestamp.
        let attrs = try FileManager.default.attributesOfItem(atPath: root + "/" + c.path)
        let mtime = try #require(attrs[.modificationDate] as? Date).timeIntervalSince1970
        #expect(mtime - 1 <= ts)
    }

    @Test func publishWritesFilesAndBookkeeping() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let root = tmp.sub("local")
        let store = LocalDirStore(root: root, repo: repo)
        let since = Date().timeIntervalSince1970
        try adopt(store, a, tmp: tmp)
        try adopt(store, b, tmp: tmp)
        #expect(store.hasContent(a.entry))
        let m = Manifest(repo: repo, commit: commitA, entries: [a.entry, b.entry])
        try publish(store, m)

        #expect(readText(root + "/a.txt") == a.text)
        #expect(readText(root + "/sub/b.bin") == b.text)
        #expect(!isSymlink(root + "/a.txt"), "local_dir holds real files")
        try checkMetadata(root, a, commit: commitA, since: since)
        try checkMetadata(root, b, commit: commitA, since: since)
        #expect(readText(root + "/.cache/huggingface/.gitignore") == "*")
        #expect(readText(root + "/.cache/huggingface/CACHEDIR.TAG")?.hasPrefix("Signature: 8a477f597d28d172789f06886806bc55") == true)
        let treeText = try #require(readText(root + "/.cache/huggingface/trees/\(commitA).json"))
        #expect(treeText.contains("\"format_version\":1"))
        #expect(!treeText.contains("xet"))
        #expect(!exists(store.stateDirectory + "/verified"), "staged content is cleaned up")
        #expect(store.currentManifest() == m)
        #expect(store.localCommit(revision: "main") == commitA)
        #expect(store.savedManifest(commit: commitA) == m)
        #expect(store.heldManifest(commit: commitA) == m)
        // Top level holds only the repo's files and the bookkeeping folder.
        #expect(FS.listDirectory(root) == [".cache", "a.txt", "sub"])
    }

    @Test func republishDeletesRenamesAndAdds() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let root = tmp.sub("local")
        let store = LocalDirStore(root: root, repo: repo)
        try adopt(store, a, tmp: tmp)
        try adopt(store, b, tmp: tmp)
        try publish(store, Manifest(repo: repo, commit: commitA, entries: [a.entry, b.entry]))

        // New state: a.txt renamed to c.txt (same content, no transfer), b kept, d added.
        let c = a.moved(to: "renamed/c.txt")
        try adopt(store, d, tmp: tmp)
        #expect(store.hasContent(c.entry), "content of a renamed file is found at its old path")
        let since = Date().timeIntervalSince1970
        let m2 = Manifest(repo: repo, commit: commitB, entries: [c.entry, b.entry, d.entry])
        try publish(store, m2)

        #expect(!exists(root + "/a.txt"))
        #expect(!exists(root + "/.cache/huggingface/download/a.txt.metadata"))
        #expect(readText(root + "/renamed/c.txt") == a.text)
        #expect(readText(root + "/d.txt") == d.text)
        #expect(readText(root + "/sub/b.bin") == b.text)
        try checkMetadata(root, c, commit: commitB, since: since)
        try checkMetadata(root, b, commit: commitB, since: since)
        try checkMetadata(root, d, commit: commitB, since: since)
        #expect(store.currentManifest() == m2)

        // And a state without sub/b.bin deletes it.
        try publish(store, Manifest(repo: repo, commit: commitA, entries: [c.entry]))
        #expect(!exists(root + "/sub/b.bin"))
        #expect(!exists(root + "/d.txt"))
        #expect(!exists(root + "/.cache/huggingface/download/sub/b.bin.metadata"))
        #expect(readText(root + "/renamed/c.txt") == a.text)
    }

    @Test func fileBecomesFolder() throws {
        // Commit A has a file `model`; commit B has `model/config.json` instead.
        let tmp = try TempDir()
        defer { tmp.remove() }
        let root = tmp.sub("local")
        let store = LocalDirStore(root: root, repo: repo)
        let asFile = Content("model", "old", blob: "5")
        let inFolder = Content("model/config.json", "{}", blob: "6")
        try adopt(store, asFile, tmp: tmp)
        try publish(store, Manifest(repo: repo, commit: commitA, entries: [asFile.entry]))
        try adopt(store, inFolder, tmp: tmp)
        try publish(store, Manifest(repo: repo, commit: commitB, entries: [inFolder.entry]))
        #expect(readText(root + "/model/config.json") == "{}")
    }

    @Test func folderBecomesFile() throws {
        // Commit A has `model/config.json`; commit B has a file `model` instead.
        let tmp = try TempDir()
        defer { tmp.remove() }
        let root = tmp.sub("local")
        let store = LocalDirStore(root: root, repo: repo)
        let inFolder = Content("model/config.json", "{}", blob: "6")
        let asFile = Content("model", "new", blob: "5")
        try adopt(store, inFolder, tmp: tmp)
        try publish(store, Manifest(repo: repo, commit: commitA, entries: [inFolder.entry]))
        try adopt(store, asFile, tmp: tmp)
        try publish(store, Manifest(repo: repo, commit: commitB, entries: [asFile.entry]))
        #expect(readText(root + "/model") == "new")
    }

    @Test func publishRefusesWithoutContent() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = LocalDirStore(root: tmp.sub("local"), repo: repo)
        let error = #expect(throws: HubError.self) { try publish(store, Manifest(repo: repo, commit: commitA, entries: [a.entry])) }
        #expect(error?.kind == .store)
        #expect(store.currentManifest() == nil)
        #expect(!exists(tmp.sub("local/a.txt")))
    }

    @Test func heldManifestDropsMissingOrResizedFiles() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let root = tmp.sub("local")
        let store = LocalDirStore(root: root, repo: repo)
        try adopt(store, a, tmp: tmp)
        try adopt(store, b, tmp: tmp)
        try adopt(store, d, tmp: tmp)
        try publish(store, Manifest(repo: repo, commit: commitA, entries: [a.entry, b.entry, d.entry]))
        try FileManager.default.removeItem(atPath: root + "/a.txt")
        try writeText("short", to: root + "/sub/b.bin")
        #expect(store.heldManifest(commit: commitA)?.entries.map(\.path) == ["d.txt"])
    }

    @Test func stateLivesUnderCacheHuggingface() throws {
        let store = LocalDirStore(root: "/data/x/", repo: repo)
        #expect(store.root == "/data/x")
        #expect(store.stateDirectory == "/data/x/.cache/huggingface/hubmirror")
        #expect(store.partialDirectory.hasPrefix(store.stateDirectory + "/"))
    }
}
