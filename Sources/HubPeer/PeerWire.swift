public import HubCore

/// The peer protocol's wire format (`/api/mirror/v1/`, Docs/peer-protocol.md). Version 1.
public enum PeerProtocol {
    public static let version = 1
    /// The path prefix every peer route starts with.
    public static let prefix = "/api/mirror/v1"

    /// A peer's base URL as the routes are appended to it: without trailing slashes.
    public static func base(_ url: String) -> String {
        var b = url
        while b.hasSuffix("/") { b.removeLast() }
        return b
    }
}

/// `GET /api/mirror/v1/catalog`: the repos a caller may see, with their refs.
public struct PeerCatalog: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    public var repos: [Repo]

    public struct Repo: Codable, Sendable, Equatable {
        public var type: String
        public var id: String
        /// Ref name (`main`, `v1.0`, `refs/pr/1`) → commit.
        public var branches: [String: String]
        public var tags: [String: String]
        public var pullRequests: [String: String]
        public var `private`: Bool
        public var gated: Bool

        public init(type: String, id: String, branches: [String: String], tags: [String: String], pullRequests: [String: String], private isPrivate: Bool, gated: Bool) {
            self.type = type
            self.id = id
            self.branches = branches
            self.tags = tags
            self.pullRequests = pullRequests
            self.private = isPrivate
            self.gated = gated
        }
    }

    public init(repos: [Repo]) {
        protocolVersion = PeerProtocol.version
        self.repos = repos
    }

    enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", repos }
}

/// `POST /api/mirror/v1/have`: which of these blobs the peer holds.
public struct PeerHaveRequest: Codable, Sendable, Equatable {
    /// Content digests: a 64-hex SHA-256, or a 40-hex git blob id for a non-LFS file.
    public var blobs: [String]
    public init(blobs: [String]) { self.blobs = blobs }
}

/// The answer to `have`: only blobs the peer holds appear.
public struct PeerHaveAnswer: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    public var blobs: [String: Held]

    public struct Held: Codable, Sendable, Equatable {
        /// True when the whole verified blob is held.
        public var whole: Bool
        public var size: Int64
        /// The peer's SHA-256 per chunk of the blob, when it has computed them.
        public var chunks: ChunkDigests?
        /// For a blob the peer is still downloading (`whole` false): the byte ranges `[start, end)` it
        /// has written so far and serves with `Range`. Provisional: checked by the receiver like any bytes.
        public var ranges: [[Int64]]?

        public init(whole: Bool, size: Int64, chunks: ChunkDigests? = nil, ranges: IntervalSet? = nil) {
            self.whole = whole
            self.size = size
            self.chunks = chunks
            self.ranges = ranges?.ranges.map { [$0.start, $0.end] }
        }

        /// The ranges of an in-progress blob, well-formed ones only (an untrusted answer).
        public var heldRanges: IntervalSet {
            var set = IntervalSet()
            for r in ranges ?? [] where r.count == 2 && 0 <= r[0] && r[0] < r[1] && r[1] <= size { set.insert(ByteRange(r[0], r[1])) }
            return set
        }
    }

    public init(blobs: [String: Held]) {
        protocolVersion = PeerProtocol.version
        self.blobs = blobs
    }

    enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", blobs }
}

/// `GET /api/mirror/v1/manifests/{type}/{repo}/{commit}`: the peer's manifest of a commit.
public struct PeerManifestAnswer: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    public var manifest: Manifest

    public init(manifest: Manifest) {
        protocolVersion = PeerProtocol.version
        self.manifest = manifest
    }

    enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", manifest }
}

extension PeerProtocol {
    /// The route of a blob by digest.
    public static func blobPath(_ digest: String) -> String { "\(prefix)/blobs/\(digest)" }

    /// The route of a commit's manifest.
    public static func manifestPath(_ repo: RepoRef, commit: String) -> String {
        "\(prefix)/manifests/\(repo.type.rawValue)/\(repo.id)/\(commit)"
    }
}

/// A peer to sync from: its base URL and the token it wants (never the upstream's).
public struct PeerEndpoint: Sendable, Equatable, Codable {
    public var url: String
    public var token: String?

    public init(url: String, token: String? = nil) {
        self.url = url
        self.token = token
    }
}
