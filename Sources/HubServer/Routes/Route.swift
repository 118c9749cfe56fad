internal import HubCore

/// A request target split on the literal route markers of the Hub API (hub-protocol.md §1).
///
/// Routing works on the raw, still percent-encoded path: it is split on `/` and only then each
/// segment is decoded, so an encoded `refs%2Fpr%2F1` stays one segment. A repo id may have one or two
/// segments; when a path reads several ways (`/api/models/acme/refs` is the refs of `acme` or the
/// info of `acme/refs`) every reading is kept, in order of preference, and the handler takes the
/// first one naming a repo the store holds.
enum Route: Equatable, Sendable {
    case healthz
    case metrics
    case agentHarnesses
    /// `/api/{type}s/...` with its possible readings.
    case api(RepoType, [APIReading])
    /// `/{prefix}{repo}/resolve/{rev}/{path}` with its possible readings.
    case resolve([ResolveReading])
    /// `/api/mirror/v1/...`: the peer protocol, with the raw segments after `v1`.
    case peer([Substring])
    case notFound

    struct APIReading: Equatable, Sendable {
        var repoSegments: [Substring]
        var endpoint: APIEndpoint
        /// Raw segments after the marker (revision, then a tree path).
        var rest: [Substring]
    }

    enum APIEndpoint: String, Equatable, Sendable {
        case info, revision, tree, pathsInfo = "paths-info", refs, commits, xetReadToken = "xet-read-token"
    }

    struct ResolveReading: Equatable, Sendable {
        var type: RepoType
        var repoSegments: [Substring]
        /// Raw segments after `resolve`: the revision, then the file path.
        var rest: [Substring]
    }

    static let markers: [Substring: APIEndpoint] = [
        "revision": .revision, "tree": .tree, "paths-info": .pathsInfo, "refs": .refs,
        "commits": .commits, "xet-read-token": .xetReadToken,
    ]

    /// Parses the path part of a request target (no query), e.g. `/api/models/acme/tiny/tree/main`.
    static func parse(_ rawPath: Substring) -> Route {
        guard rawPath.first == "/" else { return .notFound }
        let segs = rawPath.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        if segs == ["healthz"] { return .healthz }
        if segs == ["metrics"] { return .metrics }
        if segs.first == "api" {
            if segs.count == 2 && segs[1] == "agent-harnesses" { return .agentHarnesses }
            // "mirror" is no repo type, so this prefix never shadows a Hub route.
            if segs.count >= 4 && segs[1] == "mirror" && segs[2] == "v1" { return .peer(Array(segs[3...])) }
            guard segs.count >= 3, let type = apiType(segs[1]) else { return .notFound }
            let readings = apiReadings(Array(segs[2...]))
            return readings.isEmpty ? .notFound : .api(type, readings)
        }
        let readings = resolveReadings(Array(segs))
        return readings.isEmpty ? .notFound : .resolve(readings)
    }

    static func apiType(_ s: Substring) -> RepoType? {
        switch s {
        case "models": return .model
        case "datasets": return .dataset
        case "spaces": return .space
        default: return nil
        }
    }

    static func apiReadings(_ rest: [Substring]) -> [APIReading] {
        var out: [APIReading] = []
        for i in [1, 2] where i < rest.count {
            guard let endpoint = markers[rest[i]] else { continue }
            let repo = Array(rest[0..<i])
            let after = Array(rest[(i + 1)...])
            if repo.contains(where: \.isEmpty) { continue }
            switch endpoint {
            case .refs:
                // `/refs` ends the path (a trailing slash is tolerated).
                if after.isEmpty || after == [""] { out.append(APIReading(repoSegments: repo, endpoint: .refs, rest: [])) }
            default:
                if !after.isEmpty && !after[0].isEmpty { out.append(APIReading(repoSegments: repo, endpoint: endpoint, rest: after)) }
            }
        }
        // Plain repo info: one or two segments (a trailing slash is tolerated).
        var plain = rest
        if plain.count > 1 && plain.last == "" { plain.removeLast() }
        if (plain.count == 1 || plain.count == 2) && !plain.contains(where: \.isEmpty) {
            out.append(APIReading(repoSegments: plain, endpoint: .info, rest: []))
        }
        return out
    }

    static func resolveReadings(_ segs: [Substring]) -> [ResolveReading] {
        var out: [ResolveReading] = []
        // `datasets/` and `spaces/` prefixes first, then models (no prefix). A revision and at
        // least one path segment must follow `resolve`.
        if let first = segs.first, first == "datasets" || first == "spaces" {
            let type: RepoType = first == "datasets" ? .dataset : .space
            for j in [2, 3] where j + 2 < segs.count && segs[j] == "resolve" {
                let repo = Array(segs[1..<j])
                if !repo.contains(where: \.isEmpty) {
                    out.append(ResolveReading(type: type, repoSegments: repo, rest: Array(segs[(j + 1)...])))
                }
            }
        }
        for j in [1, 2] where j + 2 < segs.count && segs[j] == "resolve" {
            let repo = Array(segs[0..<j])
            if !repo.contains(where: \.isEmpty) {
                out.append(ResolveReading(type: .model, repoSegments: repo, rest: Array(segs[(j + 1)...])))
            }
        }
        return out
    }

    /// A repo id from raw segments: each segment percent-decoded, then validated by the Hub's rules.
    static func repoID(_ segments: [Substring]) -> RepoID? {
        var parts: [String] = []
        for s in segments {
            guard let d = PercentEncoding.decode(String(s)) else { return nil }
            parts.append(d)
        }
        return try? RepoID(parts.joined(separator: "/"))
    }

    /// Whether the handlers of this route read the store's repos (and so need the watch's events applied first).
    var readsStore: Bool {
        switch self {
        case .api, .resolve, .peer: return true
        case .healthz, .metrics, .agentHarnesses, .notFound: return false
        }
    }

    /// A label for metrics: one value per kind of route, never anything a client chose.
    var metricsLabel: String {
        switch self {
        case .healthz: return "healthz"
        case .metrics: return "metrics"
        case .agentHarnesses: return "agent_harnesses"
        case .resolve: return "resolve"
        case .peer: return "peer"
        case .notFound: return "not_found"
        case .api(_, let readings):
            switch readings.first?.endpoint ?? .info {
            case .info, .revision: return "repo_info"
            case .tree: return "tree"
            case .pathsInfo: return "paths_info"
            case .refs: return "refs"
            case .commits: return "commits"
            case .xetReadToken: return "xet_read_token"
            }
        }
    }
}
