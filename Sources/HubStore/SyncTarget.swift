public import HubCore
/// Where a sync writes: the huggingface_hub cache (`CacheTarget`) or a plain folder (`LocalDirStore`):
/// a content sink plus what a sync reads back to plan (what is held, what was saved). No local path
/// is part of it.
public protocol SyncTarget: ContentSink {
    var repo: RepoRef { get }
    /// The commit `revision` points at locally (the revision itself for a commit sha), if any.
    func localCommit(revision: String) -> String?
    /// The most recently published commit of this repo, whatever its revision (nil when none).
    func latestCommit() -> String?
    /// What is held for `commit` and present on disk (nil when nothing is).
    func heldManifest(commit: String) -> Manifest?
    /// The full remote manifest saved for `commit` by an earlier sync, if any.
    func savedManifest(commit: String) -> Manifest?
    /// Before anything is fetched, and again right before publishing: the files publishing `target`
    /// would overwrite although they changed since they were written (a plain folder's user edits).
    /// Without `force` it throws `.localEdits` naming them; with it, it returns them.
    func checkOverwrites(publishing target: Manifest, force: Bool) throws -> [String]
}

extension SyncTarget {
    public func checkOverwrites(publishing target: Manifest, force: Bool) throws -> [String] { [] }
}
