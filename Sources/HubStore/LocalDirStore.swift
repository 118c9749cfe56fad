public import HubCore
import Foundation

/// `--local-dir DIR`: a plain tree of the repo's files, with the official client's bookkeeping in
/// `DIR/.cache/huggingface/` (per-file `download/<path>.metadata`, `trees/<sha>.json`) and hubmirror's
/// own state in `DIR/.cache/huggingface/hubmirror/`.
public struct LocalDirStore: SyncTarget {
    public let root: String
    public let repo: RepoRef
    /// Overwrite or remove files changed since they were written here (`sync --force`); without it
    /// `publish` refuses with `.localEdits` naming them.
    public var overwriteEdits: Bool

    public init(root: String, repo: RepoRef, overwriteEdits: Bool = false) {
        self.root = FS.standardize(root)
        self.repo = repo
        self.overwriteEdits = overwriteEdits
    }

    var metaRoot: String { root + "/.cache/huggingface" }
    public var stateDirectory: String { metaRoot + "/hubmirror" }
    public var partialDirectory: String { partials.directory }
    /// Where content is staged while it arrives.
    public var partials: PartialFolder { PartialFolder(state: stateDirectory, use: .sync) }

    public func stage(_ entry: ManifestEntry) throws(HubError) -> any StagedContent { try partials.stage(entry) }

    public func adopt(_ staged: any StagedContent, as entry: ManifestEntry) throws(HubError) {
        try partials.adopt(staged, as: entry, what: "local dir \(root)") { try adoptVerified(entry, from: $0) }
    }

    public func checkRoom(for entries: [ManifestEntry]) throws { try partials.checkRoom(for: entries, what: "\(repo)") }

    public func checkOverwrites(publishing target: Manifest, force: Bool) throws -> [String] {
        if force { return editedFiles(replacing: target) }
        try refuseEdits(replacing: target)
        return []
    }
    var verifiedDirectory: String { stateDirectory + "/verified" }
    var currentPath: String { stateDirectory + "/current.json" }

    /// The manifest of the state last published into this folder.
    public func currentManifest() -> Manifest? {
        guard let b = FS.readFile(currentPath) else { return nil }
        return try? JSON.decode(Manifest.self, from: b)
    }

    public func localCommit(revision: String) -> String? { currentManifest()?.commit }

    public func latestCommit() -> String? { currentManifest()?.commit }

    public func savedManifest(commit: String) -> Manifest? {
        guard let b = FS.readFile(stateDirectory + "/manifests/\(commit).json") else { return nil }
        return try? JSON.decode(Manifest.self, from: b)
    }

    public func heldManifest(commit: String) -> Manifest? {
        guard var m = currentManifest() else { return nil }
        m.entries = m.entries.filter { FS.fileSize(root + "/" + $0.path) == $0.size }
        return m
    }

    /// A held file with this content, if any.
    func sourceFor(_ entry: ManifestEntry) -> String? {
        let v = verifiedDirectory + "/" + entry.etag
        if FS.fileSize(v) == entry.size { return v }
        if let cur = currentManifest() {
            for e in cur.entries where e.etag == entry.etag {
                let p = root + "/" + e.path
                if FS.fileSize(p) == entry.size { return p }
            }
        }
        return nil
    }

    public func hasContent(_ entry: ManifestEntry) -> Bool { sourceFor(entry) != nil }

    public func adoptVerified(_ entry: ManifestEntry, from path: String) throws {
        try FS.mkdirs(verifiedDirectory)
        try FS.renameItem(path, verifiedDirectory + "/" + entry.etag)
    }

    public func publish(plan: Plan, target: Manifest, full: Manifest, revision: String) throws {
        if !overwriteEdits { try refuseEdits(replacing: target) }
        try FS.mkdirs(metaRoot)
        if !FS.exists(metaRoot + "/.gitignore") { try FS.writeAtomically(Array("*".utf8), to: metaRoot + "/.gitignore") }
        if !FS.exists(metaRoot + "/CACHEDIR.TAG") { try FS.writeAtomically(Array(CacheDirTag.text.utf8), to: metaRoot + "/CACHEDIR.TAG") }
        let current = heldManifest(commit: target.commit)
        var held: [String: ManifestEntry] = [:]
        for e in current?.entries ?? [] { held[e.path] = e }
        let keep = Set(target.entries.map(\.path))
        let leaving = (current?.entries ?? []).filter { !keep.contains($0.path) }
        // Content that only a leaving path holds (a rename) is parked in verified/ first, so old paths can go
        // before new ones arrive: a path may turn from file into folder or back.
        let needed = Set(target.entries.filter { held[$0.path]?.etag != $0.etag }.map(\.etag))
        for e in leaving where needed.contains(e.etag) && FS.fileSize(verifiedDirectory + "/" + e.etag) != e.size {
            try FS.mkdirs(verifiedDirectory)
            try FS.linkOrCopy(root + "/" + e.path, verifiedDirectory + "/" + e.etag)
        }
        for e in leaving {
            FS.removeItem(root + "/" + e.path)
            FS.removeItem(metaRoot + "/download/\(e.path).metadata")
            FS.removeEmptyParents(of: root + "/" + e.path, upTo: root)
            FS.removeEmptyParents(of: metaRoot + "/download/\(e.path).metadata", upTo: metaRoot + "/download")
        }
        for e in target.entries {
            let dest = root + "/" + e.path
            if held[e.path]?.etag != e.etag || FS.fileSize(dest) != e.size {
                guard let src = sourceFor(e) else {
                    throw HubError(.store, "cannot publish \(e.path) into \(root): its verified content is missing")
                }
                try FS.linkOrCopy(src, dest)
            }
            let meta = "\(target.commit)\n\(e.etag)\n\(Date().timeIntervalSince1970)\n"
            try FS.writeAtomically(Array(meta.utf8), to: metaRoot + "/download/\(e.path).metadata")
        }
        try FS.writeAtomically(try JSON.encode(full), to: stateDirectory + "/manifests/\(full.commit).json")
        try FS.writeAtomically(try JSON.encode(TreeCacheFile(manifest: full)), to: metaRoot + "/trees/\(full.commit).json")
        try FS.writeAtomically(try JSON.encode(target), to: currentPath)
        FS.removeItem(verifiedDirectory)
    }

    public func lock() throws -> FileLock {
        try FileLock(path: stateDirectory + "/lock", what: "local dir \(root)")
    }
}

/// The backup-skip tag written at the top of caches (https://bford.info/cachedir/).
public enum CacheDirTag {
    public static let text = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by hubmirror.\n"
}
