import Foundation
import HubCore
import HubDigest
import HubStore
#if canImport(Glibc)
import Glibc
#endif

/// A file of a hand-built fixture repo.
struct FixtureFile {
    var path: String
    var content: [UInt8]
    var lfs: Bool = false

    init(_ path: String, _ text: String, lfs: Bool = false) {
        self.path = path
        self.content = Array(text.utf8)
        self.lfs = lfs
    }

    init(_ path: String, bytes: [UInt8], lfs: Bool = false) {
        self.path = path
        self.content = bytes
        self.lfs = lfs
    }

    var sha256: String { Digest.hex(.sha256, of: content) }

    var entry: ManifestEntry {
        if lfs {
            let pointer = Array(ContentHasher.lfsPointer(sha256: sha256, size: Int64(content.count)).utf8)
            return ManifestEntry(path: path, size: Int64(content.count), blobID: ContentHasher.gitBlobID(of: pointer),
                                 sha256: sha256, lfs: LFSInfo(sha256: sha256, size: Int64(content.count), pointerSize: Int64(pointer.count)))
        }
        return ManifestEntry(path: path, size: Int64(content.count), blobID: ContentHasher.gitBlobID(of: content), sha256: sha256)
    }
}

/// Deterministic filler bytes.
func pattern(_ n: Int, seed: Int = 7) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: ($0 &* 31 &+ seed) % 251) } }

/// A huggingface_hub cache built by hand in a temp folder, the way `hubmirror sync` and the
/// official client leave it: blobs named by etag, relative snapshot links, refs without newline,
/// hubmirror's manifest and repo info under `.hubmirror/`. Removed on deinit.
final class TestCache: @unchecked Sendable {
    let base: String
    let root: String
    let store: CacheStore

    init() throws {
        let tmpl = NSTemporaryDirectory() + "hubmirror-servertests-XXXXXX"
        var buf = Array(tmpl.utf8CString)
        guard mkdtemp(&buf) != nil else { throw HubError(.store, "mkdtemp failed") }
        base = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        root = base + "/hub"
        try FS.mkdirs(root)
        store = CacheStore(root: root)
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }

    /// Publishes `files` as `commit` of `repo`. `linked` limits which files get snapshot links
    /// (a filtered sync); `manifest: false` leaves no hubmirror manifest (official-client layout).
    func add(_ repo: RepoRef, commit: String, files: [FixtureFile], refs: [String] = [],
             linked: Set<String>? = nil, manifest: Bool = true) throws {
        let snap = store.snapshotDirectory(repo, commit: commit)
        try FS.mkdirs(snap)
        try FS.mkdirs(store.repoDirectory(repo) + "/refs")
        for f in files {
            let e = f.entry
            let blob = store.blobPath(repo, etag: e.etag)
            if FS.fileSize(blob) == nil { try FS.writeAtomically(f.content, to: blob) }
            if let linked, !linked.contains(f.path) { continue }
            let link = snap + "/" + f.path
            let dir = (link as NSString).deletingLastPathComponent
            try FS.mkdirs(dir)
            unlink(link)
            guard symlink(FS.relativePath(from: dir, to: blob), link) == 0 else { throw HubError(.store, "symlink \(link)") }
        }
        if manifest {
            try store.saveManifest(Manifest(repo: repo, commit: commit, entries: files.map(\.entry)))
        }
        for r in refs { try store.writeRef(repo, revision: r, commit: commit) }
    }

    func setInfo(_ info: RepoInfo) throws { try store.saveRepoInfo(info) }

    /// Writes a file anywhere below the temp base (for secrets that must never be served).
    func write(_ relative: String, _ text: String) throws {
        try FS.writeAtomically(Array(text.utf8), to: base + "/" + relative)
    }
}

func repo(_ id: String, _ type: RepoType = .model) -> RepoRef { RepoRef(type: type, id: try! RepoID(id)) }

enum Fixture {
    static let main = "1111111111111111111111111111111111111111"
    static let feature = "2222222222222222222222222222222222222222"
    static let pr = "3333333333333333333333333333333333333333"
    static let other = "4444444444444444444444444444444444444444"

    static let tiny = repo("acme/tiny")
    static let files: [FixtureFile] = [
        FixtureFile("README.md", "# tiny\n"),
        FixtureFile("config.json", #"{"hidden_size": 8}"#),
        FixtureFile("model.bin", bytes: pattern(4096), lfs: true),
        FixtureFile("empty.txt", ""),
        FixtureFile("sub/notes.txt", "notes\n"),
        FixtureFile("sub/dir/w.bin", bytes: pattern(3000, seed: 3), lfs: true),
        FixtureFile("odd name & #1?.txt", "odd\n"),
        FixtureFile("ünï/cødé.txt", "unicode\n"),
        FixtureFile("extra/not-synced.bin", bytes: pattern(100, seed: 9), lfs: true),
    ]
    /// Everything but `extra/not-synced.bin`: the snapshot of a `--exclude 'extra/*'` sync.
    static var linked: Set<String> { Set(files.map(\.path)).subtracting(["extra/not-synced.bin"]) }
    static let featureFiles: [FixtureFile] = [
        FixtureFile("README.md", "# tiny, feature branch\n"),
        FixtureFile("model.bin", bytes: pattern(4096), lfs: true),
    ]
    static let prFiles: [FixtureFile] = [FixtureFile("README.md", "# tiny, PR 1\n")]

    static let data = repo("acme/data", .dataset)
    static let dataFiles: [FixtureFile] = [FixtureFile("train.csv", "a,b\n1,2\n"), FixtureFile("README.md", "data\n")]
    static let app = repo("acme/app", .space)
    static let appFiles: [FixtureFile] = [FixtureFile("app.py", "print('hi')\n")]
    static let secretFiles: [FixtureFile] = [FixtureFile("secret.txt", "TOPSECRET-PRIVATE\n")]
    static let gated = repo("acme/gated")
    static let secret = repo("acme/secret")
    static let single = repo("gpt9")

    /// The standard store: a model with branches, a tag, a PR and a filtered snapshot; a dataset; a
    /// space; a gated and a private model; a single-segment model id.
    static func standard() throws -> TestCache {
        let c = try TestCache()
        try c.add(tiny, commit: main, files: files, refs: ["main", "v1.0"], linked: linked)
        try c.add(tiny, commit: feature, files: featureFiles, refs: ["feature/x"])
        try c.add(tiny, commit: pr, files: prFiles, refs: ["refs/pr/1"])
        try c.add(data, commit: main, files: dataFiles, refs: ["main"])
        try c.add(app, commit: main, files: appFiles, refs: ["main"])
        try c.add(gated, commit: main, files: dataFiles, refs: ["main"])
        try c.setInfo(RepoInfo(repo: gated, isPrivate: false, gated: "manual"))
        try c.add(secret, commit: main, files: secretFiles, refs: ["main"])
        try c.setInfo(RepoInfo(repo: secret, isPrivate: true))
        try c.add(single, commit: main, files: dataFiles, refs: ["main"])
        return c
    }
}
