import Foundation
import HubCore

/// What a request asks for, decided from the raw path.
enum Route {
    enum APIKind {
        case info(rev: String)
        case tree(rev: String, path: String)
        case pathsInfo(rev: String)
        case refs
        case commits(rev: String)
        case unknown
    }

    case api(RepoRef, APIKind)
    case resolve(RepoRef, rev: String, path: String)
    case resolveCache(RepoRef, sha: String, path: String)
    case cdnBlob(sha256: String)
    case agentHarnesses
    /// A repo route naming an invalid or unknown repo id.
    case unknownRepo
    case unknown

    var repo: RepoRef? {
        switch self {
        case .api(let r, _), .resolve(let r, _, _), .resolveCache(let r, _, _): return r
        default: return nil
        }
    }

    var filePath: String? {
        switch self {
        case .resolve(_, _, let p), .resolveCache(_, _, let p): return p
        default: return nil
        }
    }
}

func decodeSegment(_ s: Substring) -> String { PercentEncoding.decode(String(s)) ?? String(s) }

extension FakeHub {
    static let apiMarkers: Set<String> = ["revision", "tree", "paths-info", "refs", "commits", "xet-read-token"]

    /// Splits revision segments from what follows: one percent-encoded segment normally, several when a
    /// client sent a ref with raw slashes (`refs/pr/1`, `feature/x`) and that longer name exists.
    static func splitRevision(_ segs: [Substring], repo: RepoState?, keepAtLeast rest: Int) -> (String, Int) {
        guard !segs.isEmpty else { return ("", 0) }
        let first = decodeSegment(segs[0])
        if let repo, repo.resolve(first) == nil, segs.count - rest >= 2 {
            for k in 2...(segs.count - rest) {
                let candidate = segs[0..<k].map(decodeSegment).joined(separator: "/")
                if repo.resolve(candidate) != nil { return (candidate, k) }
            }
        }
        return (first, 1)
    }

    static func route(_ server: Server, _ path: String, _ s: State) -> Route {
        if server == .cdn {
            let segs = path.split(separator: "/")
            if segs.count == 2, segs[0] == "repos" { return .cdnBlob(sha256: String(segs[1])) }
            return .unknown
        }
        if path.hasPrefix("/api/") {
            var segs = path.dropFirst(5).split(separator: "/", omittingEmptySubsequences: false)
            if segs.first == "agent-harnesses" { return .agentHarnesses }
            if segs.first == "resolve-cache" { return routeResolveCache(Array(segs.dropFirst()), s) }
            guard let typeSeg = segs.first, let type = RepoType.allCases.first(where: { $0.apiSegment == typeSeg }) else { return .unknown }
            segs.removeFirst()
            func known(_ k: Int) -> RepoRef? {
                guard segs.count >= k, let id = try? RepoID(segs[0..<k].joined(separator: "/")) else { return nil }
                let ref = RepoRef(type: type, id: id)
                return s.repos[ref] != nil ? ref : nil
            }
            var k: Int
            var repo: RepoRef
            if let r = known(2) {
                (k, repo) = (2, r)
            } else if let r = known(1) {
                (k, repo) = (1, r)
            } else {
                k = segs.count >= 2 && !apiMarkers.contains(String(segs[1])) ? 2 : 1
                guard segs.count >= k, let id = try? RepoID(segs[0..<k].joined(separator: "/")) else { return .unknownRepo }
                repo = RepoRef(type: type, id: id)
            }
            let rest = Array(segs[k...])
            let state = s.repos[repo]
            guard let marker = rest.first, marker != "" else { return .api(repo, .info(rev: Revision.defaultBranch)) }
            var args = Array(rest.dropFirst())
            if marker != "tree", args.last == "" { args.removeLast() }
            switch marker {
            case "revision":
                let rev = args.map(decodeSegment).joined(separator: "/")
                return .api(repo, .info(rev: rev))
            case "tree":
                let (rev, used) = splitRevision(args, repo: state, keepAtLeast: 0)
                let sub = args.dropFirst(used).map(decodeSegment).filter { !$0.isEmpty }.joined(separator: "/")
                return .api(repo, .tree(rev: rev, path: sub))
            case "paths-info":
                return .api(repo, .pathsInfo(rev: args.map(decodeSegment).joined(separator: "/")))
            case "refs":
                return args.isEmpty || args == [""] ? .api(repo, .refs) : .api(repo, .unknown)
            case "commits":
                return .api(repo, .commits(rev: args.map(decodeSegment).joined(separator: "/")))
            default:
                return .api(repo, .unknown)
            }
        }
        guard let marker = path.range(of: "/resolve/") else { return .unknown }
        var before = path[path.index(after: path.startIndex)..<marker.lowerBound]
        var type = RepoType.model
        for t in [RepoType.dataset, .space] where before.hasPrefix(t.resolvePrefix) {
            type = t
            before = before.dropFirst(t.resolvePrefix.count)
        }
        guard let id = try? RepoID(decodeSegment(before)) else { return .unknownRepo }
        let repo = RepoRef(type: type, id: id)
        let segs = path[marker.upperBound...].split(separator: "/", omittingEmptySubsequences: false)
        let (rev, used) = splitRevision(segs, repo: s.repos[repo], keepAtLeast: 1)
        let file = segs.dropFirst(used).map(decodeSegment).joined(separator: "/")
        return .resolve(repo, rev: rev, path: file)
    }

    /// `/api/resolve-cache/{type}s/{repo}/{sha}/{path}`: the repo id ends before the 40-hex segment.
    static func routeResolveCache(_ segs: [Substring], _ s: State) -> Route {
        guard let typeSeg = segs.first, let type = RepoType.allCases.first(where: { $0.apiSegment == typeSeg }) else { return .unknown }
        let rest = Array(segs.dropFirst())
        for k in [2, 1] where rest.count > k + 1 && Revision.isCommitSHA(String(rest[k])) {
            guard let id = try? RepoID(rest[0..<k].joined(separator: "/")) else { continue }
            let repo = RepoRef(type: type, id: id)
            if k == 2 && s.repos[repo] == nil && Revision.isCommitSHA(String(rest[1])) { continue }
            return .resolveCache(repo, sha: String(rest[k]), path: rest[(k + 1)...].map(decodeSegment).joined(separator: "/"))
        }
        return .unknownRepo
    }
}
