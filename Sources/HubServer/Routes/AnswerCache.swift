internal import HubCore
internal import Hummingbird

/// Answers given before, kept with the store facts they were built from: when the same request comes
/// again and every fact still holds (the ref names the same commit, the snapshot, manifest and
/// `repo-info.json` have the same stamps, the blob is still there with its size), the answer is the
/// one the handlers would build, so it is given as it is. A training job's start-up sends the same
/// few requests thousands of times; this takes the routing, parsing, access and JSON work off all
/// but the first, while a revision a sync publishes is still seen from the next request on (its ref
/// fact no longer holds). Bounded: cleared when full.
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
    }

    private let table = Locked<(bytes: Int, map: [Key: Entry])>((0, [:]))
    private let maxEntries: Int
    private let maxBytes: Int

    init(maxEntries: Int = 8192, maxBytes: Int = 64 << 20) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    /// The answer kept for `key` if every fact it was built from still holds.
    func answer(_ key: Key, index: StoreIndex) -> Entry? {
        guard let hit = table.withLock({ $0.map[key] }) else { return nil }
        for fact in hit.checks where !fact.holds(in: index) { return nil }
        return hit
    }

    /// Keeps an answer built from `facts`, unless it depended on something they do not capture.
    func keep(_ key: Key, response: Response, label: String, facts: StoreFacts) {
        guard facts.reusable, !facts.facts.isEmpty, facts.bodyBytes <= maxBytes / 16 else { return }
        let entry = Entry(response: response, label: label, checks: facts.checks, bytes: facts.bodyBytes + key.target.utf8.count)
        table.withLock { t in
            if t.map.count >= maxEntries || t.bytes + entry.bytes > maxBytes { t = (0, [:]) }
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
