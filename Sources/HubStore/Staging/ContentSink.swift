public import HubCore

/// Where fetched content lands: staged while it arrives, adopted once verified, published as a
/// commit atomically. The transfer engine sees only `stage` and `adopt`; no local path leaks out, so an
/// object-store sink can conform as well (it is done when it passes `ContentSinkConformance`).
public protocol ContentSink: Sendable {
    /// Opens staging for the content of `entry`, resuming what an earlier run journaled.
    func stage(_ entry: ManifestEntry) throws(HubError) -> any StagedContent
    /// True when verified content for `entry` is already held (no transfer needed).
    func hasContent(_ entry: ManifestEntry) -> Bool
    /// Takes verified staged content as the content of `entry`; the staging is gone afterwards.
    func adopt(_ staged: any StagedContent, as entry: ManifestEntry) throws(HubError)
    /// Takes the content of `entry` from somewhere the sink already holds it (another repo of the same
    /// cache); true when it did, so no transfer is needed.
    func adoptFromElsewhere(_ entry: ManifestEntry) -> Bool
    /// Throws `.diskFull` before anything is fetched when `entries` cannot fit.
    func checkRoom(for entries: [ManifestEntry]) throws
    /// Makes the state `target` visible for `revision`, atomically where the layout allows.
    /// `full` is the complete manifest of the commit (for the tree cache and saved manifest).
    func publish(plan: Plan, target: Manifest, full: Manifest, revision: String) throws
    /// Takes the per-repo lock.
    func lock() throws -> FileLock
}

extension ContentSink {
    public func adoptFromElsewhere(_ entry: ManifestEntry) -> Bool { false }
    public func checkRoom(for entries: [ManifestEntry]) throws {}
}
