internal import HubCore
internal import HubDigest
internal import HubStore
internal import NIOCore

/// One file or folder of a commit, as listed by the tree and paths-info routes.
enum TreeItem: Sendable {
    case file(ManifestEntry)
    case directory(String)

    var path: String {
        switch self {
        case .file(let e): return e.path
        case .directory(let p): return p
        }
    }
}

/// What the server offers of one commit: the files whose snapshot entry resolves to a blob of the
/// repo's own `blobs/` folder (a snapshot may hold a filtered subset of the commit), with the folders
/// above them. Built once per commit and cached by `StoreIndex`; immutable afterwards.
final class CommitView: Sendable {
    private static let serials = Locked<UInt64>(0)
    /// Tells this view from every other one built by this process.
    let serial: UInt64 = CommitView.serials.withLock { $0 += 1; return $0 }
    let repo: RepoRef
    let commit: String
    /// Files and folders sorted by UTF-8 path.
    let items: [TreeItem]
    /// Path of a file or folder -> index in `items`.
    let index: [String: Int]
    /// Folder (`""` for the root) -> indices of its direct children in `items`, sorted.
    let children: [String: [Int]]
    /// Git tree ids of folders, computed from the full manifest when one was saved.
    let treeOIDs: [String: String]
    /// Files of the commit's saved manifest that this snapshot does not hold (listed in `items` only
    /// when the server pulls them through on demand).
    let missingPaths: Set<String>
    /// Unix time the snapshot folder was published.
    let lastModified: Double
    let totalBytes: Int64
    let fileCount: Int
    private let siblingsCache = Locked<[Bool: [UInt8]]>([:])
    private let answers = Locked<[[String]: ByteBuffer]>([:])

    init(repo: RepoRef, commit: String, files: [ManifestEntry], treeSource: [ManifestEntry], missingPaths: Set<String>, lastModified: Double) {
        self.repo = repo
        self.commit = commit
        var dirs = Set<String>()
        for f in files {
            var p = Substring(f.path)
            while let slash = p.lastIndex(of: "/") {
                p = p[..<slash]
                if !dirs.insert(String(p)).inserted { break }
            }
        }
        var items = files.map(TreeItem.file) + dirs.map(TreeItem.directory)
        items.sort { utf8Less($0.path, $1.path) }
        var index: [String: Int] = [:]
        var children: [String: [Int]] = ["": []]
        for (i, item) in items.enumerated() {
            index[item.path] = i
            let parent = item.path.lastIndex(of: "/").map { String(item.path[..<$0]) } ?? ""
            children[parent, default: []].append(i)
        }
        self.items = items
        self.index = index
        self.children = children
        self.treeOIDs = Self.gitTreeOIDs(treeSource)
        self.missingPaths = missingPaths
        self.lastModified = lastModified
        self.totalBytes = files.reduce(0) { $0 + $1.size }
        self.fileCount = files.count
    }

    func file(at path: String) -> ManifestEntry? {
        guard let i = index[path], case .file(let e) = items[i] else { return nil }
        return e
    }

    func isDirectory(_ path: String) -> Bool {
        if path.isEmpty { return true }
        guard let i = index[path], case .directory = items[i] else { return false }
        return true
    }

    /// Up to `limit` indices of the entries a tree listing of `folder` returns, starting after
    /// `cursor`, and whether more follow.
    func listing(folder: String, recursive: Bool, after cursor: String?, limit: Int) -> (indices: [Int], more: Bool) {
        if recursive {
            var lo = 0, hi = items.count
            if !folder.isEmpty {
                // Everything below `folder/` sorts in [`folder/`, `folder0`): '0' follows '/' in ASCII.
                lo = lowerBound(folder + "/")
                hi = lowerBound(folder + "0")
            }
            if let cursor { lo = max(lo, upperBound(cursor)) }
            guard lo < hi else { return ([], false) }
            let end = min(hi, lo + limit)
            return (Array(lo..<end), end < hi)
        }
        let kids = children[folder] ?? []
        var a = 0
        if let cursor {
            var b = kids.count
            while a < b {
                let m = (a + b) / 2
                if !utf8Less(cursor, items[kids[m]].path) { a = m + 1 } else { b = m }
            }
        }
        let end = min(kids.count, a + limit)
        return (Array(kids[a..<end]), end < kids.count)
    }

    private func lowerBound(_ key: String) -> Int {
        var a = 0, b = items.count
        while a < b {
            let m = (a + b) / 2
            if utf8Less(items[m].path, key) { a = m + 1 } else { b = m }
        }
        return a
    }

    private func upperBound(_ key: String) -> Int {
        var a = 0, b = items.count
        while a < b {
            let m = (a + b) / 2
            if !utf8Less(key, items[m].path) { a = m + 1 } else { b = m }
        }
        return a
    }

    /// The `siblings` array of the repo info, with or without `?blobs=true` details; built once.
    func siblingsJSON(blobs: Bool) -> [UInt8] {
        if let cached = siblingsCache.withLock({ $0[blobs] }) { return cached }
        var w = JSONWriter(capacity: fileCount * (blobs ? 160 : 40))
        w.beginArray()
        for item in items {
            guard case .file(let e) = item else { continue }
            w.beginObject()
            w.field("rfilename", e.path)
            if blobs {
                w.field("size", e.size)
                w.field("blobId", e.blobID)
                if let lfs = e.lfs {
                    w.key("lfs")
                    w.beginObject()
                    w.field("sha256", lfs.sha256)
                    w.field("size", lfs.size)
                    w.field("pointerSize", lfs.pointerSize)
                    w.endObject()
                }
            }
            w.endObject()
        }
        w.endArray()
        let bytes = w.bytes
        siblingsCache.withLock { $0[blobs] = bytes }
        return bytes
    }

    /// An answer built from this view alone, kept under `key` (at most 64 kinds per view).
    func answer(_ key: [String], build: () -> [UInt8]) -> ByteBuffer {
        if let hit = answers.withLock({ $0[key] }) { return hit }
        let bytes = ByteBuffer(bytes: build())
        answers.withLock { a in
            if a.count >= 64 { a.removeAll() }
            a[key] = bytes
        }
        return bytes
    }

    /// A tree / paths-info entry (hub-protocol.md §3.2). Never a `xetHash`.
    func writeEntry(_ item: TreeItem, to w: inout JSONWriter) {
        w.beginObject()
        switch item {
        case .file(let e):
            w.field("type", "file")
            w.field("oid", e.blobID)
            w.field("size", e.size)
            w.field("path", e.path)
            if let lfs = e.lfs {
                w.key("lfs")
                w.beginObject()
                w.field("oid", lfs.sha256)
                w.field("size", lfs.size)
                w.field("pointerSize", lfs.pointerSize)
                w.endObject()
            }
        case .directory(let p):
            w.field("type", "directory")
            w.field("oid", treeOIDs[p] ?? String(repeating: "0", count: 40))
            w.field("size", Int64(0))
            w.field("path", p)
        }
        w.endObject()
    }

    /// Git tree object ids for every folder of `entries` (files as mode 100644 blobs), so folder
    /// oids match the upstream's for complete manifests.
    static func gitTreeOIDs(_ entries: [ManifestEntry]) -> [String: String] {
        struct Child { var name: String; var isDir: Bool; var oid: [UInt8]? }
        var dirChildren: [String: [Child]] = ["": []]
        for e in entries {
            guard e.blobID.utf8.count == 40, let oid = HexText.bytes(e.blobID) else { continue }
            let comps = e.path.split(separator: "/").map(String.init)
            var parent = ""
            for (k, c) in comps.enumerated() {
                let full = parent.isEmpty ? c : parent + "/" + c
                if k == comps.count - 1 {
                    dirChildren[parent, default: []].append(Child(name: c, isDir: false, oid: oid))
                } else if dirChildren[full] == nil {
                    dirChildren[full] = []
                    dirChildren[parent, default: []].append(Child(name: c, isDir: true, oid: nil))
                }
                parent = full
            }
        }
        func depth(_ p: String) -> Int { p.isEmpty ? -1 : p.utf8.reduce(0) { $0 + ($1 == 47 ? 1 : 0) } }
        var oids: [String: [UInt8]] = [:]
        var out: [String: String] = [:]
        for dir in dirChildren.keys.sorted(by: { depth($0) > depth($1) }) {
            var kids = dirChildren[dir] ?? []
            // Git orders tree entries by name, folders compared as if their name ended in '/'.
            kids.sort { ($0.name + ($0.isDir ? "/" : "")).utf8.lexicographicallyPrecedes(($1.name + ($1.isDir ? "/" : "")).utf8) }
            var body: [UInt8] = []
            for k in kids {
                let childPath = dir.isEmpty ? k.name : dir + "/" + k.name
                guard let oid = k.isDir ? oids[childPath] : k.oid else { continue }
                body.append(contentsOf: (k.isDir ? "40000 " : "100644 ").utf8)
                body.append(contentsOf: k.name.utf8)
                body.append(0)
                body.append(contentsOf: oid)
            }
            let d = Digest(.sha1)
            d.update(Array("tree \(body.count)\0".utf8))
            d.update(body)
            let hex = d.finalizeHex()
            oids[dir] = HexText.bytes(hex)
            out[dir] = hex
        }
        return out
    }
}

extension CommitView {
    /// Reads a commit of the store. Files are taken from the saved full manifest when there is one,
    /// else from the snapshot folder itself (snapshots written by the official client). Either way a
    /// file counts only if its snapshot entry resolves, through every link, to `blobs/<etag>` of this
    /// repo with the expected size, or, with `listMissing`, if it is in the saved manifest at all.
    static func build(store: CacheStore, repo: RepoRef, commit: String, listMissing: Bool = false) -> CommitView? {
        let snap = store.snapshotDirectory(repo, commit: commit)
        guard let snapStamp = PosixFS.stamp(snap), snapStamp.isDirectory else { return nil }
        let blobsReal = FS.realPath(store.repoDirectory(repo) + "/blobs")

        func presentSize(_ path: String, etag: String) -> Int64? {
            guard let blobsReal, HexText.isEtag(etag), let real = FS.realPath(snap + "/" + path),
                  real == blobsReal + "/" + etag,
                  let st = PosixFS.stamp(real), st.isRegularFile else { return nil }
            return st.size
        }

        var files: [ManifestEntry] = []
        var missing = Set<String>()
        if let saved = store.loadManifest(repo, commit: commit), saved.commit == commit, saved.repo == repo {
            for e in saved.entries where RemotePath.problem(with: e.path) == nil {
                if let size = presentSize(e.path, etag: e.etag), size == e.size {
                    files.append(e)
                } else {
                    missing.insert(e.path)
                    if listMissing { files.append(e) }
                }
            }
            return CommitView(repo: repo, commit: commit, files: files, treeSource: saved.entries,
                              missingPaths: missing, lastModified: snapStamp.modificationTime)
        }
        // No saved manifest: walk the snapshot without following folder links.
        var stack: [String] = [""]
        while let rel = stack.popLast() {
            let dir = rel.isEmpty ? snap : snap + "/" + rel
            for name in PosixFS.names(in: dir) {
                let p = rel.isEmpty ? name : rel + "/" + name
                guard RemotePath.problem(with: p) == nil, let st = PosixFS.stamp(dir + "/" + name, followLinks: false) else { continue }
                if st.isDirectory {
                    if p.split(separator: "/").count < 64 { stack.append(p) }
                } else if st.isSymlink, let target = FS.readLink(dir + "/" + name) {
                    let etag = String(target.split(separator: "/").last ?? "")
                    guard let size = presentSize(p, etag: etag) else { continue }
                    if etag.utf8.count == 64 {
                        let pointer = Array(ContentHasher.lfsPointer(sha256: etag, size: size).utf8)
                        files.append(ManifestEntry(path: p, size: size, blobID: ContentHasher.gitBlobID(of: pointer),
                                                   lfs: LFSInfo(sha256: etag, size: size, pointerSize: Int64(pointer.count))))
                    } else {
                        files.append(ManifestEntry(path: p, size: size, blobID: etag))
                    }
                }
            }
        }
        return CommitView(repo: repo, commit: commit, files: files, treeSource: files,
                          missingPaths: [], lastModified: snapStamp.modificationTime)
    }
}
