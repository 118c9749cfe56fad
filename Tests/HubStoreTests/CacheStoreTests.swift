import Testing
import Foundation
import HubCore
import HubStore

@Suite struct CacheTargetPublishTests {
    let readme = Content("README.md", "# tiny\n", blob: "1")
    let weights = Content("sub/dir/w.bin", String(repeating: "w", count: 300), blob: "2", lfs: true)
    let config = Content("config.json", "{}", blob: "3")

    func writeBlobs(_ store: CacheStore, _ contents: [Content]) throws {
        for c in contents { try writeText(c.text, to: store.blobPath(repo, etag: c.entry.etag)) }
    }

    func manifestOf(_ commit: String, _ contents: [Content]) -> Manifest {
        Manifest(repo: repo, commit: commit, entries: contents.map(\.entry))
    }

    func publish(_ store: CacheStore, _ m: Manifest, full: Manifest? = nil, revision: String = "main") throws {
        let target = store.target(repo)
        let plan = Differ.plan(local: nil, remote: m, haveContent: { _ in true })
        try target.publish(plan: plan, target: m, full: full ?? m, revision: revision)
    }

    @Test func snapshotLinksAreRelativeAndResolve() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try writeBlobs(store, [readme, weights, config])
        let m = manifestOf(commitA, [readme, weights, config])
        try publish(store, m)

        let snap = store.snapshotDirectory(repo, commit: commitA)
        #expect(snap == tmp.sub("hub/models--acme--tiny/snapshots/\(commitA)"))
        #expect(readLinkTarget(snap + "/README.md") == "../../blobs/\(readme.entry.etag)")
        #expect(readLinkTarget(snap + "/config.json") == "../../blobs/\(config.entry.etag)")
        #expect(readLinkTarget(snap + "/sub/dir/w.bin") == "../../../../blobs/\(weights.entry.etag)")
        #expect(weights.entry.etag.count == 64, "LFS blobs are named by sha256")
        for c in [readme, weights, config] {
            #expect(isSymlink(snap + "/" + c.path))
            #expect(readText(snap + "/" + c.path) == c.text, "\(c.path) resolves to its blob")
        }
        #expect(tree(snap) == ["README.md", "config.json", "sub", "sub/dir", "sub/dir/w.bin"])
        #expect(tree(store.stateDirectory(repo) + "/staging").isEmpty, "no staging leftovers")
    }

    @Test func refHasExactlyTheShaWithoutNewline() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try writeBlobs(store, [readme])
        try publish(store, manifestOf(commitA, [readme]))
        let bytes = try #require(FileManager.default.contents(atPath: tmp.sub("hub/models--acme--tiny/refs/main")))
        #expect([UInt8](bytes) == Array(commitA.utf8))
        #expect(store.readRef(repo, revision: "main") == commitA)
        #expect(store.target(repo).localCommit(revision: "main") == commitA)
        #expect(store.target(repo).localCommit(revision: commitA) == commitA)
        #expect(store.target(repo).localCommit(revision: commitB) == nil)
        #expect(store.target(repo).localCommit(revision: "other") == nil)
        #expect(tree(tmp.sub("hub/models--acme--tiny/refs")) == ["main"])
    }

    @Test func nestedRevisionRefAndCommitRevisionWritesNoRef() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try writeBlobs(store, [readme])
        try publish(store, manifestOf(commitA, [readme]), revision: commitA)
        #expect(tree(store.repoDirectory(repo) + "/refs").isEmpty, "a commit revision writes no ref")
        #expect(FileManager.default.fileExists(atPath: store.snapshotDirectory(repo, commit: commitA) + "/README.md"))
        try publish(store, manifestOf(commitA, [readme]), revision: "refs/pr/1")
        #expect(readText(store.refPath(repo, revision: "refs/pr/1")) == commitA)
        #expect(store.refPath(repo, revision: "refs/pr/1") == tmp.sub("hub/models--acme--tiny/refs/refs/pr/1"))
    }

    @Test func treeCacheHasTheOfficialShape() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try writeBlobs(store, [readme, weights])
        try publish(store, manifestOf(commitA, [readme, weights]))
        let path = store.repoDirectory(repo) + "/trees/\(commitA).json"
        let text = try #require(readText(path))
        #expect(!text.contains("xet"), "never an xet_hash")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(json.keys) == ["format_version", "files"])
        #expect(json["format_version"] as? Int == 1)
        let files = try #require(json["files"] as? [String: [String: Any]])
        #expect(Set(files.keys) == ["README.md", "sub/dir/w.bin"])
        let r = try #require(files["README.md"])
        #expect(Set(r.keys) == ["size", "blob_id"], "no lfs_* keys for a regular file")
        #expect(r["size"] as? Int == 7)
        #expect(r["blob_id"] as? String == readme.entry.blobID)
        let w = try #require(files["sub/dir/w.bin"])
        #expect(Set(w.keys) == ["size", "blob_id", "lfs_sha256", "lfs_size"])
        #expect(w["size"] as? Int == 300)
        #expect(w["blob_id"] as? String == weights.entry.blobID)
        #expect(w["lfs_sha256"] as? String == weights.entry.etag)
        #expect(w["lfs_size"] as? Int == 300)
    }

    @Test func treeCacheAndSavedManifestAreCompleteWhenTargetIsFiltered() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try writeBlobs(store, [readme])
        let full = manifestOf(commitA, [readme, weights, config])
        let target = full.filtered(PathFilter(include: ["*.md"]))
        try publish(store, target, full: full)
        #expect(tree(store.snapshotDirectory(repo, commit: commitA)) == ["README.md"])
        let text = try #require(readText(store.repoDirectory(repo) + "/trees/\(commitA).json"))
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let files = try #require(json?["files"] as? [String: Any])
        #expect(files.count == 3)
        #expect(store.target(repo).savedManifest(commit: commitA) == full)
        #expect(store.target(repo).heldManifest(commit: commitA)?.entries.map(\.path) == ["README.md"])
    }

    @Test func savedManifestRoundTripsAndKeepsLearntDigests() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try writeBlobs(store, [readme, weights])
        var withDigest = manifestOf(commitA, [readme, weights])
        withDigest.entries[0].sha256 = String(repeating: "9", count: 64)
        try publish(store, withDigest)
        let target = store.target(repo)
        #expect(target.savedManifest(commit: commitA) == withDigest)
        #expect(store.loadManifest(repo, commit: commitA) == withDigest)
        #expect(FileManager.default.fileExists(atPath: store.manifestPath(repo, commit: commitA)))
        // Publishing again without the digest keeps the one learnt before.
        try publish(store, manifestOf(commitA, [readme, weights]))
        #expect(target.savedManifest(commit: commitA) == withDigest)
        #expect(target.heldManifest(commit: commitA) == withDigest)
    }

    @Test func existingPartialSnapshotGetsMissingLinks() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try writeBlobs(store, [readme, weights, config])
        // An earlier partial sync (or the official client) left only README.md, plus a stale link for config.json.
        let snap = store.snapshotDirectory(repo, commit: commitA)
        try FileManager.default.createDirectory(atPath: snap, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: snap + "/README.md", withDestinationPath: "../../blobs/\(readme.entry.etag)")
        try FileManager.default.createSymbolicLink(atPath: snap + "/config.json", withDestinationPath: "../../blobs/\(readme.entry.etag)")
        try publish(store, manifestOf(commitA, [readme, weights, config]))
        #expect(readLinkTarget(snap + "/README.md") == "../../blobs/\(readme.entry.etag)")
        #expect(readLinkTarget(snap + "/sub/dir/w.bin") == "../../../../blobs/\(weights.entry.etag)")
        #expect(readLinkTarget(snap + "/config.json") == "../../blobs/\(config.entry.etag)", "a link to the wrong blob is replaced")
        #expect(readText(snap + "/config.json") == "{}")
        #expect(tree(snap) == ["README.md", "config.json", "sub", "sub/dir", "sub/dir/w.bin"], "no temp links left")
        #expect(store.readRef(repo, revision: "main") == commitA)
    }

    @Test func refusesWhenABlobIsMissing() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try writeBlobs(store, [readme])
        let error = #expect(throws: HubError.self) { try publish(store, manifestOf(commitA, [readme, weights])) }
        #expect(error?.kind == .store)
        #expect(error?.message.contains("sub/dir/w.bin") == true)
        #expect(!exists(store.snapshotDirectory(repo, commit: commitA)))
        #expect(!exists(store.refPath(repo, revision: "main")))
        #expect(!exists(store.repoDirectory(repo) + "/trees/\(commitA).json"))
        #expect(store.loadManifest(repo, commit: commitA) == nil)
    }

    @Test func refusesWhenABlobHasTheWrongSize() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try writeText("# tin", to: store.blobPath(repo, etag: readme.entry.etag))
        #expect(!store.target(repo).hasContent(readme.entry))
        #expect(throws: HubError.self) { try publish(store, manifestOf(commitA, [readme])) }
        #expect(!exists(store.snapshotDirectory(repo, commit: commitA)))
    }

    @Test func heldManifestDropsEntriesWithoutLinkOrBlob() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try writeBlobs(store, [readme, weights, config])
        let m = manifestOf(commitA, [readme, weights, config])
        try publish(store, m)
        let target = store.target(repo)
        #expect(target.heldManifest(commit: commitA) == m)
        try FileManager.default.removeItem(atPath: store.blobPath(repo, etag: weights.entry.etag))
        try FileManager.default.removeItem(atPath: store.snapshotDirectory(repo, commit: commitA) + "/config.json")
        let held = try #require(target.heldManifest(commit: commitA))
        #expect(held.entries.map(\.path) == ["README.md"])
        #expect(held.commit == commitA)
        #expect(!target.hasContent(weights.entry))
        #expect(target.hasContent(readme.entry))
        #expect(target.heldManifest(commit: commitB) == nil)
    }

    @Test func heldManifestFromForeignSnapshot() throws {
        // A snapshot written by another tool, with no saved manifest: rebuilt from the links.
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try writeBlobs(store, [readme, weights])
        let snap = store.snapshotDirectory(repo, commit: commitA)
        try FileManager.default.createDirectory(atPath: snap + "/sub/dir", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: snap + "/README.md", withDestinationPath: "../../blobs/\(readme.entry.etag)")
        try FileManager.default.createSymbolicLink(atPath: snap + "/sub/dir/w.bin", withDestinationPath: "../../../../blobs/\(weights.entry.etag)")
        try FileManager.default.createSymbolicLink(atPath: snap + "/broken", withDestinationPath: "../../blobs/nothing")
        let held = try #require(store.target(repo).heldManifest(commit: commitA))
        #expect(held.entries.map(\.path) == ["README.md", "sub/dir/w.bin"])
        #expect(held.entry(at: "README.md")?.etag == readme.entry.etag)
        #expect(held.entry(at: "sub/dir/w.bin")?.etag == weights.entry.etag)
        #expect(held.entry(at: "sub/dir/w.bin")?.isLFS == true)
        #expect(held.entry(at: "README.md")?.size == 7)
    }

    @Test func repoDiscoveryAndBlobSearch() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        let other = RepoRef(type: .dataset, id: try RepoID("acme/data"))
        try writeText(readme.text, to: store.blobPath(other, etag: readme.entry.etag))
        try FileManager.default.createDirectory(atPath: store.repoDirectory(repo), withIntermediateDirectories: true)
        try writeText("x", to: tmp.sub("hub/CACHEDIR.TAG"))
        try FileManager.default.createDirectory(atPath: tmp.sub("hub/.locks"), withIntermediateDirectories: true)
        #expect(Set(store.repos()) == [repo, other])
        #expect(store.findBlob(etag: readme.entry.etag, size: 7, preferring: repo) == store.blobPath(other, etag: readme.entry.etag))
        #expect(store.findBlob(etag: readme.entry.etag, size: 8, preferring: repo) == nil)
        #expect(store.target(repo).adoptFromOtherRepo(readme.entry))
        #expect(readText(store.blobPath(repo, etag: readme.entry.etag)) == readme.text)
        #expect(store.findBlob(etag: readme.entry.etag, size: 7, preferring: repo) == store.blobPath(repo, etag: readme.entry.etag))
    }
}

@Suite struct CacheStoreRefTests {
    @Test func refsListsNestedRefs() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try store.writeRef(repo, revision: "main", commit: commitA)
        try store.writeRef(repo, revision: "refs/pr/1", commit: commitB)
        try store.writeRef(repo, revision: "feature/x", commit: commitA)
        try store.writeRef(repo, revision: "v1.0", commit: commitB)
        // Not refs: a trailing newline, a non-sha, a leftover temp file.
        try writeText(commitA + "\n", to: store.refPath(repo, revision: "bad-newline"))
        try writeText("not-a-sha", to: store.refPath(repo, revision: "garbage"))
        try writeText(commitA, to: store.refPath(repo, revision: "main.tmp-123-456"))
        #expect(store.refs(repo) == ["main": commitA, "refs/pr/1": commitB, "feature/x": commitA, "v1.0": commitB])
        #expect(store.readRef(repo, revision: "refs/pr/1") == commitB)
        #expect(store.readRef(repo, revision: "bad-newline") == nil)
        #expect(store.readRef(repo, revision: "missing") == nil)
    }

    @Test func refsOfUnknownRepoIsEmpty() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        #expect(CacheStore(root: tmp.sub("hub")).refs(repo).isEmpty)
    }

    @Test(arguments: ["../x", "../../../escape", "a/../../b", "", "/abs", "a\\b", "a//b"])
    func writeRefRejectsUnsafeNames(_ rev: String) throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        let error = #expect(throws: HubError.self) { try store.writeRef(repo, revision: rev, commit: commitA) }
        #expect(error?.kind == .usage)
        #expect(tree(tmp.path).isEmpty, "nothing written anywhere")
    }

    @Test func overwriteRefAtomically() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        try store.writeRef(repo, revision: "main", commit: commitA)
        try store.writeRef(repo, revision: "main", commit: commitB)
        #expect(readText(store.refPath(repo, revision: "main")) == commitB)
        #expect(tree(store.repoDirectory(repo) + "/refs") == ["main"])
    }

    @Test func layoutPaths() throws {
        let store = CacheStore(root: "/x/y/../hub/")
        #expect(store.root == "/x/hub")
        let ds = RepoRef(type: .dataset, id: try RepoID("acme/data"))
        #expect(store.repoDirectory(ds) == "/x/hub/datasets--acme--data")
        #expect(store.blobPath(ds, etag: "e") == "/x/hub/datasets--acme--data/blobs/e")
        #expect(store.refPath(ds, revision: "refs/pr/1") == "/x/hub/datasets--acme--data/refs/refs/pr/1")
        #expect(store.stateDirectory(ds) == "/x/hub/datasets--acme--data/.hubmirror")
    }
}
