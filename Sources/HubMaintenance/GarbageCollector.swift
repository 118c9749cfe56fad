import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import HubCore
public import HubStore

/// What `gc` removes from one repo (or would, in a dry run).
public struct RepoCollection: Codable, Sendable {
    public var repo: String
    public var type: String
    /// Snapshots (commits) no ref names, beyond the ones kept.
    public var snapshots: [String] = []
    /// Blobs no kept snapshot links to and no kept commit's manifest lists.
    public var blobs: [String] = []
    /// Leftovers under `.hubmirror/`: partial downloads of content no kept commit lists, staging
    /// folders and quarantined blobs, relative to the repo folder.
    public var leftovers: [String] = []
    public var bytes: Int64 = 0
    /// True when the whole repo folder was removed (or would be): it held no snapshot and no ref, only
    /// leftovers of a sync that published nothing, none of them modified within the grace time.
    public var halfRepo = false
    /// Set when the repo was skipped because a sync holds its lock.
    public var skipped: String?

    public init(repo: RepoRef) {
        self.repo = repo.id.description
        self.type = repo.type.rawValue
    }
}

public struct CollectionReport: Codable, Sendable {
    public var dryRun = false
    public var repos: [RepoCollection] = []
    public var bytes: Int64 { repos.reduce(0) { $0 + $1.bytes } }
    public init() {}
}

/// Frees what a store no longer needs, never what a client or a running sync can still use:
///
/// - a snapshot is dropped only if no ref names it and it is not among the `keepUnreferenced`
///   most recent such snapshots (default: all are kept); it is renamed away first, so readers see
///   it whole or not at all, and its manifest and tree cache go with it;
/// - a blob is removed only if no kept snapshot links to it and no kept commit's manifest lists it;
/// - partial downloads, staging folders and quarantined blobs go when nothing kept needs them;
/// - a half repo (a folder with no snapshot and no ref, left by a sync that published nothing) goes whole;
/// - anything modified within `grace` stays (a pull-through may have fetched a blob whose listing
///   has not landed yet), and each repo is worked on under its lock (a repo whose sync is running
///   is skipped and reported).
public struct GarbageCollector: Sendable {
    public let store: CacheStore
    public var keepUnreferenced: Int?
    public var grace: Double
    public var dryRun: Bool

    public init(store: CacheStore, keepUnreferenced: Int? = nil, grace: Double = 3600, dryRun: Bool = false) {
        self.store = store
        self.keepUnreferenced = keepUnreferenced
        self.grace = grace
        self.dryRun = dryRun
    }

    public func collect(_ repos: [RepoRef] = []) throws -> CollectionReport {
        var report = CollectionReport()
        report.dryRun = dryRun
        for repo in try store.repos(selecting: repos, halfRepos: true) {
            let lock: FileLock
            do {
                lock = try store.target(repo).lock()
            } catch let e as HubError where e.kind == .lockHeld {
                var skipped = RepoCollection(repo: repo)
                skipped.skipped = e.message
                report.repos.append(skipped)
                continue
            }
            defer { lock.unlock() }
            report.repos.append(try collect(repo))
        }
        return report
    }

    func collect(_ repo: RepoRef) throws -> RepoCollection {
        var out = RepoCollection(repo: repo)
        let dir = store.repoDirectory(repo)
        let now = Date().timeIntervalSince1970
        func young(_ path: String) -> Bool { FS.modificationTime(path).map { now - $0 < grace } ?? false }

        if !store.holds(repo) {
            // Nothing of it is visible to a client: the folder goes whole once nothing in it is young.
            guard (newest(dir).map { now - $0 >= grace } ?? true) else { return out }
            out.halfRepo = true
            out.bytes = diskUsage(dir)
            if !dryRun { FS.removeItem(dir) }
            return out
        }

        // Snapshots: every one a ref names, and the most recent others up to the limit.
        let named = Set(store.refs(repo).values)
        let snapshotsDir = dir + "/snapshots"
        let all = FS.listDirectory(snapshotsDir).filter(Revision.isCommitSHA)
        var unnamed = all.filter { !named.contains($0) }.map { ($0, FS.modificationTime(snapshotsDir + "/" + $0) ?? 0) }
        unnamed.sort { $0.1 > $1.1 }
        let limit = keepUnreferenced ?? Int.max
        let dropped = unnamed.enumerated().filter { $0.offset >= limit && !young(snapshotsDir + "/" + $0.element.0) }.map(\.element.0)
        let kept = all.filter { !dropped.contains($0) }
        out.snapshots = dropped.sorted()

        // Content anything kept still needs: snapshot links and manifest entries of kept commits.
        var needed = Set<String>()
        for c in kept {
            for e in store.loadManifest(repo, commit: c)?.entries ?? [] { needed.insert(e.etag) }
            for rel in StoreVerifier.links(under: snapshotsDir + "/" + c) {
                if let t = FS.readLink(snapshotsDir + "/" + c + "/" + rel), let name = t.split(separator: "/").last {
                    needed.insert(String(name))
                }
            }
        }
        let blobsDir = dir + "/blobs"
        for name in FS.listDirectory(blobsDir).sorted() where HexDigits.isContentHash(name) && !needed.contains(name) {
            let p = blobsDir + "/" + name
            if young(p) { continue }
            out.blobs.append(name)
            out.bytes += FS.fileSize(p) ?? 0
        }

        // Leftovers under .hubmirror/.
        let state = store.stateDirectory(repo)
        for sub in PartialFolder.Use.allCases.map(\.rawValue) {
            for name in FS.listDirectory(state + "/" + sub).sorted() {
                let etag = name.components(separatedBy: ".").first ?? ""
                let p = state + "/" + sub + "/" + name
                if needed.contains(etag) || young(p) { continue }
                out.leftovers.append(".hubmirror/\(sub)/\(name)")
                out.bytes += FS.fileSize(p) ?? 0
            }
        }
        for sub in ["staging", "quarantine", "trash"] {
            for name in FS.listDirectory(state + "/" + sub).sorted() where !young(state + "/" + sub + "/" + name) {
                out.leftovers.append(".hubmirror/\(sub)/\(name)")
                out.bytes += diskUsage(state + "/" + sub + "/" + name)
            }
        }
        for c in dropped { out.bytes += diskUsage(snapshotsDir + "/" + c) }
        if dryRun { return out }

        // Snapshots leave by rename, so a reader sees one whole or none; then the files go.
        for c in dropped {
            let trash = state + "/trash/\(c).\(Int(now))"
            try FS.mkdirs(state + "/trash")
            try FS.renameItem(snapshotsDir + "/" + c, trash)
            FS.removeItem(trash)
            FS.removeItem(store.manifestPath(repo, commit: c))
            FS.removeItem(dir + "/trees/\(c).json")
        }
        for b in out.blobs { FS.removeItem(blobsDir + "/" + b) }
        for l in out.leftovers { FS.removeItem(dir + "/" + l) }
        return out
    }

    /// The latest modification time of `path` and anything below it (links not followed).
    func newest(_ path: String) -> Double? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        var latest = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        if st.st_mode & S_IFMT == S_IFDIR {
            for name in FS.listDirectory(path) { if let t = newest(path + "/" + name) { latest = max(latest, t) } }
        }
        return latest
    }

    /// Bytes of regular files below `path` (links not followed).
    func diskUsage(_ path: String) -> Int64 {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        if st.st_mode & S_IFMT == S_IFREG { return Int64(st.st_size) }
        guard st.st_mode & S_IFMT == S_IFDIR else { return 0 }
        return FS.listDirectory(path).reduce(0) { $0 + diskUsage(path + "/" + $1) }
    }
}
