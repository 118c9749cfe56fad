import HubCore
/// Where a sync writes: the huggingface_hub cache (`CacheTarget`) or a plain folder (`LocalDirTarget`):
/// a content sink plus what a sync reads back to plan (what is held, what was saved).
public protocol SyncTarget: ContentSink {
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
    /// Moves a verified file into the store as the content of `entry`.
    func adoptVerified(_ entry: ManifestEntry, from path: String) throws
}

extension SyncTarget {
    /// Content is staged as a `PartialFile` in the target's partial folder.
    public func stage(_ entry: ManifestEntry) throws(HubError) -> any StagedContent {
        try PartialFile(directory: partialDirectory, etag: entry.etag, size: entry.size)
    }

    public func adopt(_ staged: any StagedContent, as entry: ManifestEntry) throws(HubError) {
        guard let file = staged as? PartialFile else {
            throw HubError(.store, "\(repo): staged content of \(entry.path) is not a partial file of this store")
        }
        file.close()
        do { try adoptVerified(entry, from: file.path) } catch { throw PartialFile.hubError(error, "adopt", file.path) }
        file.removeJournal()
    }
}
