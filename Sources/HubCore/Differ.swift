/// What a plan does with one path.
public enum ChangeKind: String, Codable, Sendable, CaseIterable {
    case added, changed, deleted, renamed, unchanged
}

/// One line of a plan.
public struct PlanItem: Codable, Hashable, Sendable {
    public var kind: ChangeKind
    public var path: String
    /// For `renamed`: the path the same content had before.
    public var fromPath: String?
    /// The file on the target side (nil for `deleted`).
    public var entry: ManifestEntry?
    /// The file on the local side (for `changed`, `deleted`, `renamed`, `unchanged`).
    public var previous: ManifestEntry?
    /// True when this item's content must be transferred (not held locally, not fetched for another item).
    public var fetch: Bool

    /// Bytes that must be transferred for this item.
    public var bytesToFetch: Int64 { fetch ? (entry?.size ?? 0) : 0 }
}

/// The difference between what is local and what the remote holds, ready to show or apply.
public struct Plan: Codable, Hashable, Sendable {
    public var repo: RepoRef
    public var fromCommit: String?
    public var toCommit: String
    public var items: [PlanItem]

    public func items(_ kind: ChangeKind) -> [PlanItem] { items.filter { $0.kind == kind } }

    public var counts: [ChangeKind: Int] {
        var c: [ChangeKind: Int] = [:]
        for k in ChangeKind.allCases { c[k] = 0 }
        for i in items { c[i.kind, default: 0] += 1 }
        return c
    }

    /// Bytes to move over the network: each distinct missing content counted once.
    public var bytesToFetch: Int64 { items.reduce(0) { $0 + $1.bytesToFetch } }

    /// Distinct contents to fetch, one entry per etag, in path order.
    public var fetches: [ManifestEntry] { items.compactMap { $0.fetch ? $0.entry : nil } }

    /// True when applying the plan changes nothing.
    public var isNoop: Bool { items.allSatisfy { $0.kind == .unchanged } }
}

/// Compares two manifests, in the manner of rclone's march: every path lands in exactly one class.
public enum Differ {
    /// - Parameters:
    ///   - local: what the store holds now (nil when nothing is held).
    ///   - remote: the target state.
    ///   - haveContent: whether the store already holds a blob with this etag (no transfer needed).
    public static func plan(local: Manifest?, remote: Manifest, haveContent: (String) -> Bool = { _ in false }) -> Plan {
        let localEntries = local?.entries ?? []
        var localByPath: [String: ManifestEntry] = [:]
        for e in localEntries { localByPath[e.path] = e }
        let remotePaths = Set(remote.entries.map(\.path))

        // Content of local paths that disappear, available to explain new paths as renames.
        var vanishedByEtag: [String: [ManifestEntry]] = [:]
        for e in localEntries where !remotePaths.contains(e.path) {
            vanishedByEtag[e.etag, default: []].append(e)
        }
        var items: [PlanItem] = []
        var renamedFrom = Set<String>()
        var fetchedEtags = Set<String>()
        // A content held by any local path, or already scheduled, never needs fetching again.
        let localEtags = Set(localEntries.map(\.etag))
        func needsFetch(_ e: ManifestEntry) -> Bool {
            if localEtags.contains(e.etag) || haveContent(e.etag) { return false }
            return fetchedEtags.insert(e.etag).inserted
        }

        for e in remote.entries {
            if let old = localByPath[e.path] {
                if old.etag == e.etag && old.size == e.size {
                    items.append(PlanItem(kind: .unchanged, path: e.path, entry: e, previous: old, fetch: false))
                } else {
                    items.append(PlanItem(kind: .changed, path: e.path, entry: e, previous: old, fetch: needsFetch(e)))
                }
            } else if var candidates = vanishedByEtag[e.etag], !candidates.isEmpty {
                let old = candidates.removeFirst()
                vanishedByEtag[e.etag] = candidates
                renamedFrom.insert(old.path)
                items.append(PlanItem(kind: .renamed, path: e.path, fromPath: old.path, entry: e, previous: old, fetch: false))
            } else {
                items.append(PlanItem(kind: .added, path: e.path, entry: e, fetch: needsFetch(e)))
            }
        }
        for e in localEntries where !remotePaths.contains(e.path) && !renamedFrom.contains(e.path) {
            items.append(PlanItem(kind: .deleted, path: e.path, previous: e, fetch: false))
        }
        items.sort { $0.path < $1.path }
        return Plan(repo: remote.repo, fromCommit: local?.commit, toCommit: remote.commit, items: items)
    }
}
