import HubCore

/// What hubmirror reads from `GET /api/{type}s/{repo}/revision/{rev}`.
public struct RevisionInfo: Sendable, Equatable {
    public var id: String
    public var sha: String
    public var isPrivate: Bool
    /// `nil`/`"false"` when not gated, else `"auto"` or `"manual"`.
    public var gated: String?

    public init(id: String, sha: String, isPrivate: Bool, gated: String?) {
        self.id = id
        self.sha = sha
        self.isPrivate = isPrivate
        self.gated = gated
    }
}

/// One entry of a tree listing (protocol §3.2).
public struct TreeEntry: Decodable, Sendable, Equatable {
    public struct LFS: Decodable, Sendable, Equatable {
        public var oid: String
        public var size: Int64
        public var pointerSize: Int64?
    }
    public var type: String
    public var oid: String
    public var size: Int64?
    public var path: String
    public var lfs: LFS?
}

extension TreeEntry {
    /// The manifest entry for a file, after checking everything that later becomes a file name.
    func manifestEntry(repo: RepoRef) throws -> ManifestEntry {
        try RemotePath.validate(path, repo: repo.description)
        guard HexDigits.isLowercase(oid, count: 40) else {
            throw HubError(.protocolViolation, "\(repo): tree entry \(path.debugDescription) has a malformed oid \(oid.debugDescription)")
        }
        guard let size, size >= 0 else {
            throw HubError(.protocolViolation, "\(repo): tree entry \(path.debugDescription) has no valid size")
        }
        var lfsInfo: LFSInfo? = nil
        if let lfs {
            guard HexDigits.isLowercase(lfs.oid, count: 64) else {
                throw HubError(.protocolViolation, "\(repo): LFS entry \(path.debugDescription) has a malformed sha256 \(lfs.oid.debugDescription)")
            }
            lfsInfo = LFSInfo(sha256: lfs.oid, size: lfs.size, pointerSize: lfs.pointerSize ?? 0)
        }
        return ManifestEntry(path: path, size: lfsInfo?.size ?? size, blobID: oid, lfs: lfsInfo)
    }
}
