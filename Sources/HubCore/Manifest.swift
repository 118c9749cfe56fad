/// The LFS part of a file: SHA-256 and size of the real content, size of the pointer blob.
public struct LFSInfo: Codable, Hashable, Sendable {
    public var sha256: String
    public var size: Int64
    public var pointerSize: Int64

    public init(sha256: String, size: Int64, pointerSize: Int64) {
        self.sha256 = sha256
        self.size = size
        self.pointerSize = pointerSize
    }
}

/// One file of a repository at a commit.
public struct ManifestEntry: Codable, Hashable, Sendable {
    /// Path inside the repo, validated by `RemotePath`.
    public var path: String
    /// Content size in bytes.
    public var size: Int64
    /// Git blob id (sha1) of the file as stored in git: for LFS files, of the pointer.
    public var blobID: String
    /// SHA-256 of the content: from `lfs.oid` for LFS files, computed on download for others.
    public var sha256: String?
    /// Present for LFS files.
    public var lfs: LFSInfo?
    /// SHA-256 per chunk of the content, once hubmirror has hashed it that way (manifest format 2).
    public var chunks: ChunkDigests?

    public init(path: String, size: Int64, blobID: String, sha256: String? = nil, lfs: LFSInfo? = nil, chunks: ChunkDigests? = nil) {
        self.path = path
        self.size = size
        self.blobID = blobID
        self.sha256 = sha256 ?? lfs?.sha256
        self.lfs = lfs
        self.chunks = chunks
    }

    public var isLFS: Bool { lfs != nil }

    /// The name the Hub's ETag gives this content, and so its blob file name in the cache:
    /// the LFS SHA-256 for LFS files, the git blob id otherwise.
    public var etag: String { lfs?.sha256 ?? blobID }
}

/// All files of a repository at one commit, sorted by path.
public struct Manifest: Codable, Hashable, Sendable {
    /// 2: entries may carry `chunks`. Format 1 files (no chunk digests) still read.
    public static let formatVersion = 2
    public var formatVersion: Int
    public var repo: RepoRef
    public var commit: String
    public var entries: [ManifestEntry]

    public init(repo: RepoRef, commit: String, entries: [ManifestEntry]) {
        self.formatVersion = Manifest.formatVersion
        self.repo = repo
        self.commit = commit
        self.entries = entries.sorted { $0.path < $1.path }
    }

    public var totalBytes: Int64 { entries.reduce(0) { $0 + $1.size } }

    public func entry(at path: String) -> ManifestEntry? {
        // Entries are sorted: binary search.
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].path < path { lo = mid + 1 } else { hi = mid }
        }
        return lo < entries.count && entries[lo].path == path ? entries[lo] : nil
    }

    /// The manifest restricted to the paths `filter` keeps.
    public func filtered(_ filter: PathFilter) -> Manifest {
        if filter.isEverything { return self }
        var m = self
        m.entries = entries.filter { filter.keeps($0.path) }
        return m
    }
}
