internal import HubCore
internal import Hummingbird

/// Answers given before, kept with the store facts they were built from: when the same request comes
/// again and every fact still holds (the ref names the same commit, the snapshot, manifest and
/// `repo-info.json` have the same stamps, the blob is still there with its size), the answer is the
/// one the handlers would build, so it is given as it is. A training job's start-up sends the same
/// few requests thousands of times; this takes the routing, parsing, access and JSON work off all
/// but the first, while a revision a sync publishes is still seen from the next request on (its ref
/// fact no longer holds). Bounded: cleared when full.
///
/// With a `StoreWatch`, an answer is stamped with the generations of the repo folders its facts are
/// in, and given without checking them while those generations have not moved (the watch has seen no
/// change to anything the answer could depend on); otherwise the facts are checked, and when they
/// hold, the answer is stamped anew.
final class AnswerCache: Sendable {
    /// Everything about a request its answer can depend on besides the store.
    struct Key: Hashable, Sendable {
        var isHead: Bool
        /// The request target as sent: path and query.
        var target: String
        /// `Host`, which tree pages' `Link` URLs are built from.
        var host: String
        var range: String?
        /// Whether the request carries a configured token (private and gated repos).
        var hasToken: Bool
    }

    struct Entry: Sendable {
        var response: Response
        var label: String
        var checks: [StoreFact]
        var bytes: Int
        /// The repo folders the facts are about (nil: not all in one of the store's repo folders).
        var repos: [String]?
        /// Their generations when the facts were last found to hold with the repos watched (nil:
        /// not yet). Taken before the facts were read, so a change after it moves a generation.
        var stamp: [UInt64]?
        /// Tells this entry from one kept later under the same key.
        var serial: UInt64
    }

    private let table = Locked<(bytes: Int, serial: UInt64, map: [Key: Entry])>((0, 0, [:]))
    private let maxEntries: Int
    private let maxBytes: Int

    init(maxEntries: Int = 8192, maxBytes: Int = 64 << 20) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    /// The answer kept for `key` if nothing it was built from has changed: its repos' generations
    /// have not moved, or else every fact still holds. Without a kept answer, the watch's events are
    /// applied all the same, so that the handler reads views that follow the store.
    func answer(_ key: Key, index: StoreIndex) -> Entry? {
        guard let hit = table.withLock({ $0.map[key] }) else {
            index.watch?.drain()
            return nil
        }
        var now: [UInt64]?
        if let watch = index.watch {
            now = hit.repos.flatMap { watch.generations($0, watching: true) }
            if let now, now == hit.stamp { return hit }
        }
        for fact in hit.checks where !fact.holds(in: index) { return nil }
        if let now {
            table.withLock { t in
                if t.map[key]?.serial == hit.serial { t.map[key]?.stamp = now }
            }
        }
        return hit
    }

    /// Keeps an answer built from `facts`, unless it depended on something they do not capture. It
    /// is not stamped yet: its facts are checked at its first use, after the watch of its repos (set
    /// up here when new) covers everything they are about.
    func keep(_ key: Key, response: Response, label: String, facts: StoreFacts, index: StoreIndex) {
        guard facts.reusable, !facts.facts.isEmpty, facts.bodyBytes <= maxBytes / 16 else { return }
        let checks = facts.checks
        let repos = index.repoFolders(of: checks.lazy.map(\.path))
        if let repos, let watch = index.watch { _ = watch.generations(repos, watching: true) }
        table.withLock { t in
            t.serial &+= 1
            let entry = Entry(response: response, label: label, checks: checks, bytes: facts.bodyBytes + key.target.utf8.count,
                              repos: repos, stamp: nil, serial: t.serial)
            if t.map.count >= maxEntries || t.bytes + entry.bytes > maxBytes { t.bytes = 0; t.map = [:] }
            if let old = t.map.updateValue(entry, forKey: key) { t.bytes -= old.bytes }
            t.bytes += entry.bytes
        }
    }
}

extension AnswerCache.Key {
    /// The key of a request whose answer may be kept: GET or HEAD of an API or resolve route.
    init?(route: Route, request: Request, policy: AccessPolicy) {
        switch route {
        case .api, .resolve: break
        default: return nil
        }
        let isHead = request.method == .head
        // Without a Host header the server's own address goes into tree links: not kept.
        guard isHead || request.method == .get, let target = request.head.path, let host = request.head.authority else { return nil }
        self.init(isHead: isHead, target: target, host: host, range: request.headers[.range],
                  hasToken: policy.hasValidToken(authorization: request.headers[.authorization]))
    }
}
