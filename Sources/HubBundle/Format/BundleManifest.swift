public import HubCore

/// The first member of every volume, `hubmirror-bundle/manifest.json`: what the bundle holds and
/// where. Public format, version 1 (Docs/bundle-format.md). JSON with sorted keys.
public struct BundleManifest: Codable, Sendable, Equatable {
    public static let formatName = "hubmirror-bundle"
    public static let formatVersion = 1

    /// Always `hubmirror-bundle`.
    public var format: String
    /// 1. A reader refuses a version it does not know.
    public var formatVersion: Int
    /// 32 random hex digits, the same in every volume; import journals are kept per bundle id.
    public var bundleID: String
    /// ISO 8601 UTC time of the export.
    public var created: String
    /// The far-side state this bundle is incremental against, if any.
    public var since: SinceState?
    /// How many volumes the bundle has (1 without `--volume-size`).
    public var volumes: Int
    /// The `--volume-size` it was cut with, if any.
    public var volumeSize: Int64?
    /// Repos, their refs and commits, sorted by type and id.
    public var repos: [BundleRepo]
    /// The blobs this bundle carries (those the far side lacked), sorted by first use.
    public var blobs: [BundleBlob]

    public init(bundleID: String, created: String, since: SinceState?, volumes: Int, volumeSize: Int64?, repos: [BundleRepo], blobs: [BundleBlob]) {
        format = Self.formatName
        formatVersion = Self.formatVersion
        self.bundleID = bundleID
        self.created = created
        self.since = since
        self.volumes = volumes
        self.volumeSize = volumeSize
        self.repos = repos
        self.blobs = blobs
    }

    /// Every tar member the manifest places in `volume`, in archive order.
    public func members(inVolume volume: Int) -> [BundleMember] {
        blobs.flatMap(\.members).filter { $0.volume == volume }
    }

    public var totalBlobBytes: Int64 { blobs.reduce(0) { $0 + $1.size } }
}

/// The far side's state an incremental bundle leaves out (from `hubmirror state`).
public struct SinceState: Codable, Sendable, Equatable {
    /// SHA-256 of the state file's bytes.
    public var sha256: String
    /// When the state was written.
    public var created: String
    /// Blobs of the selected commits the bundle left out because the far side holds them.
    public var blobsLeftOut: Int
}

/// One repo: visibility as the source store recorded it, refs, and the full manifest of every commit.
public struct BundleRepo: Codable, Sendable, Equatable {
    public var repo: RepoRef
    public var isPrivate: Bool
    public var gated: String?
    /// Names of refs that are tags upstream, when the source knew them.
    public var tags: [String]?
    /// ref name → commit (every commit named here is in `commits`).
    public var refs: [String: String]
    /// Manifest format 2 of each commit, sorted by commit.
    public var commits: [Manifest]

    public init(repo: RepoRef, isPrivate: Bool, gated: String?, tags: [String]?, refs: [String: String], commits: [Manifest]) {
        self.repo = repo
        self.isPrivate = isPrivate
        self.gated = gated
        self.tags = tags
        self.refs = refs
        self.commits = commits
    }
}

/// One content carried by the bundle, by SHA-256, as one member (`blobs/<sha256>`) or as parts
/// (`blobs/<sha256>.part-0001`, …) when it is larger than a volume.
public struct BundleBlob: Codable, Sendable, Equatable {
    public var sha256: String
    public var size: Int64
    /// Where its bytes are, in order of offset; one member covering everything when not split.
    public var members: [BundleMember]

    public init(sha256: String, size: Int64, members: [BundleMember]) {
        self.sha256 = sha256
        self.size = size
        self.members = members
    }

    public var isSplit: Bool { members.count > 1 || members.first?.name != BundleLayout.blobName(sha256) }
}

/// A tar member holding blob bytes `offset ..< offset + size`, in volume `volume` (1-based).
public struct BundleMember: Codable, Sendable, Equatable {
    public var name: String
    public var volume: Int
    public var offset: Int64
    public var size: Int64

    public init(name: String, volume: Int, offset: Int64, size: Int64) {
        self.name = name
        self.volume = volume
        self.offset = offset
        self.size = size
    }
}
