internal import HubCore

/// Results of pure functions of the request target (the route reading, repo ids), kept by input: a
/// training job's start-up sends the same few targets thousands of times, and parsing and validating
/// them again was a fifth of the time of a revision-info request. Bounded: cleared when full.
final class Memo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let table = Locked<[Key: Value]>([:])
    private let limit: Int

    init(limit: Int = 4096) { self.limit = limit }

    func value(_ key: Key, _ compute: (Key) -> Value) -> Value {
        if let hit = table.withLock({ $0[key] }) { return hit }
        let v = compute(key)
        table.withLock { t in
            if t.count >= limit { t.removeAll(keepingCapacity: true) }
            t[key] = v
        }
        return v
    }
}

enum RouteMemo {
    /// Keyed by the path as it came (no copy per request; a kept key holds on to its request target).
    static let routes = Memo<Substring, Route>()
    static let repoIDs = Memo<[Substring], RepoID?>()

    /// `Route.parse`, remembered by raw path.
    static func route(_ rawPath: Substring) -> Route {
        routes.value(rawPath) { Route.parse($0) }
    }

    /// `Route.repoID`, remembered by raw segments.
    static func repoID(_ segments: [Substring]) -> RepoID? {
        repoIDs.value(segments) { Route.repoID($0) }
    }
}
