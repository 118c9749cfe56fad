public import HubCore
import HubStore

/// What a store holds, as `hubmirror state` writes it for the other side of an air gap: repos with
/// refs and commits, and every blob (by its cache name and size). `export --since` leaves out the
/// blobs listed here. Public format, version 1 (Docs/bundle-format.md).
public struct StoreState: Codable, Sendable, Equatable {
    public static let formatName = "hubmirror-state"
    public static let formatVersion = 1

    public struct Repo: Codable, Sendable, Equatable {
        public var repo: RepoRef
        public var refs: [String: String]
        public var commits: [String]

        public init(repo: RepoRef, refs: [String: String], commits: [String]) {
            self.repo = repo
            self.refs = refs
            self.commits = commits
        }
    }

    public var format: String
    public var formatVersion: Int
    public var created: String
    public var repos: [Repo]
    /// blob name in the cache (the etag: LFS SHA-256 or git blob id) → size.
    public var blobs: [String: Int64]

    public init(created: String, repos: [Repo], blobs: [String: Int64]) {
        format = Self.formatName
        formatVersion = Self.formatVersion
        self.created = created
        self.repos = repos
        self.blobs = blobs
    }

    /// True when the far side holds the content of `entry` (same name, same size).
    public func holds(_ entry: ManifestEntry) -> Bool { blobs[entry.etag] == entry.size }

    /// Parses a state file, naming `path` in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws(HubError) -> StoreState {
        let state: StoreState
        do { state = try JSON.decode(StoreState.self, from: bytes) } catch {
            throw HubError(.usage, "--since \(path) is not a hubmirror state file: \(error)")
        }
        guard state.format == formatName else { throw HubError(.usage, "--since \(path) is not a hubmirror state file (format '\(state.format)')") }
        guard state.formatVersion == formatVersion else {
            throw HubError(.usage, "--since \(path) has state format version \(state.formatVersion); this hubmirror reads version \(formatVersion)")
        }
        return state
    }
}
