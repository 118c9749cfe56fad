import HubCore
/// Where a sync writes: the huggingface_hub cache (`CacheStore`) or a plain folder (`LocalDirStore`).
/// The transfer engine only sees `partialDirectory` and `adoptVerified`; the sync step publishes.
public protocol SyncTarget: Sendable {
    var repo: RepoRef { get }
    /// Folder for partial downloads and their resume journals, created on demand.
    var partialDirectory: String { get }
    /// Folder for this target's per-repo state (manifests, locks).
    var stateDirectory: String { get }
    /// The commit `revision` points at locally (the revision itself for a commit sha), if any.
    func localCommit(revision: String) -> String?
    /// The most recently published commit of this repo, whatever its revision (nil when none).
    func latestCommit() -> String?
    /// What is held for `commit` and present on disk (nil when nothing is).
    func heldManifest(commit: String) -> Manifest?
    /// The full remote manifest saved for `commit` by an earlier sync, if any.
    func savedManifest(commit: String) -> Manifest?
    /// True when verified content for `entry` is already held (no transfer needed).
    func hasContent(_ entry: ManifestEntry) -> Bool
    /// Moves a verified file into the store as the content of `entry`.
    func adoptVerified(_ entry: ManifestEntry, from path: String) throws
    /// Makes the state `target` visible for `revision`, atomically where the layout allows.
    /// `full` is the complete manifest of the commit (for the tree cache and saved manifest).
    func publish(plan: Plan, target: Manifest, full: Manifest, revision: String) throws
    /// Takes the per-repo lock.
    func lock() throws -> FileLock
}
