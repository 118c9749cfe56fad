public import HubCore

/// One thing `verify` found wrong in a repo of the store.
public struct Finding: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// A blob's content does not match the digest its name promises (or the size its manifest gives).
        case corrupt
        /// A snapshot entry whose blob is not in the store.
        case missing
        /// A snapshot entry that is not a link into this repo's `blobs/` (or links to the wrong content).
        case misplaced
    }

    public var kind: Kind
    /// The blob (`blobs/<etag>`) concerned, when known.
    public var etag: String?
    /// Snapshot paths, as `<commit>/<path>`, that serve this content.
    public var paths: [String]
    public var detail: String
    /// Set by `--repair` once the content is fetched again and verified.
    public var repaired = false

    public init(kind: Kind, etag: String?, paths: [String], detail: String) {
        self.kind = kind
        self.etag = etag
        self.paths = paths
        self.detail = detail
    }
}

/// What `verify` checked in one repo and what it found.
public struct RepoVerification: Codable, Sendable {
    public var repo: String
    public var type: String
    public var blobsChecked = 0
    public var bytesChecked: Int64 = 0
    public var snapshotEntries = 0
    public var findings: [Finding] = []

    public init(repo: RepoRef) {
        self.repo = repo.id.description
        self.type = repo.type.rawValue
    }

    /// True when nothing is wrong, or everything wrong was repaired.
    public var isHealthy: Bool { findings.allSatisfy(\.repaired) }
}

/// The outcome of a `verify` run over the store.
public struct VerifyReport: Codable, Sendable {
    public var repos: [RepoVerification] = []
    public var seconds: Double = 0

    public init() {}

    public var isHealthy: Bool { repos.allSatisfy(\.isHealthy) }
    public var blobsChecked: Int { repos.reduce(0) { $0 + $1.blobsChecked } }
    public var bytesChecked: Int64 { repos.reduce(0) { $0 + $1.bytesChecked } }
    public var findings: Int { repos.reduce(0) { $0 + $1.findings.count } }
    public var unrepaired: Int { repos.reduce(0) { $0 + $1.findings.filter { !$0.repaired }.count } }
}
