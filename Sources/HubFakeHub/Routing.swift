import Foundation
import HubCore
import HubDigest
import Hummingbird
import NIOCore

/// Request context that keeps the connection's channel, so responses can be cut mid-body.
struct FakeHubContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Routes every request of one server into the fake (no trie router: repo ids and revisions need the
/// raw path split on markers).
struct FakeHubResponder: HTTPResponder {
    typealias Context = FakeHubContext
    let hub: FakeHub
    let server: FakeHub.Server

    func respond(to request: Request, context: FakeHubContext) async throws -> Response {
        await hub.handle(request, server: server, channel: context.channel)
    }
}

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

/// A response before faults that cut or slow the body are applied.
struct Reply {
    enum Body {
        case empty
        case data([UInt8])
        case content(FakeHub.FileContent, start: Int64, length: Int64)

        var length: Int64 {
            switch self {
            case .empty: return 0
            case .data(let d): return Int64(d.count)
            case .content(_, _, let n): return n
            }
        }
    }

    var status: Int
    var headers: [(String, String)] = []
    var body: Body = .empty

    static func json(_ value: JSON, status: Int = 200, headers: [(String, String)] = []) -> Reply {
        Reply(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers, body: .data(value.bytes))
    }

    /// A Hub error: JSON `{"error": ...}` plus `X-Error-Code` / `X-Error-Message` (§4.6).
    static func error(_ status: Int, code: String?, _ message: String, commit: String? = nil) -> Reply {
        var headers: [(String, String)] = [("X-Error-Message", message)]
        if let code { headers.append(("X-Error-Code", code)) }
        if let commit { headers.append(("X-Repo-Commit", commit)) }
        return json(.object([("error", .string(message))]), status: status, headers: headers)
    }

    static func repoNotFound() -> Reply {
        error(401, code: "RepoNotFound", "Repository Not Found. Please make sure you specified the correct repo id and are authenticated.")
    }

    static let expired = Reply(
        status: 403, headers: [("Content-Type", "application/xml")],
        body: .data(Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>".utf8)))
}

/// The parts of a request the handlers need.
struct RequestInfo {
    var method: String
    var pathPart: String
    var query: [(String, String)]
    var headers: [String: String]
    var body: [UInt8]

    func query(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
    func queryAll(_ name: String) -> [String] { query.filter { $0.0 == name }.map(\.1) }
    func flag(_ name: String) -> Bool { ["1", "true", "True"].contains(query(name) ?? "") }

    var bearerToken: String? {
        guard let auth = headers["authorization"] else { return nil }
        let parts = auth.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingWhitespace()
    }
}

/// Form / query decoding: `+` is a space, then percent-decoding.
func decodeForm(_ text: Substring) -> [(String, String)] {
    text.split(separator: "&", omittingEmptySubsequences: true).map { item in
        let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        func dec(_ s: Substring) -> String {
            let plus = s.replacingOccurrences(of: "+", with: " ")
            return PercentEncoding.decode(plus) ?? plus
        }
        return (dec(kv[0]), kv.count > 1 ? dec(kv[1]) : "")
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

    // MARK: Handling

    func handle(_ request: Request, server: Server, channel: any Channel) async -> Response {
        let raw = request.head.path ?? "/"
        let method = request.method.rawValue
        var headers: [String: String] = [:]
        if let authority = request.head.authority { headers["host"] = authority }
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        let logID = logArrival { LoggedRequest(id: $0, server: server, method: method, path: raw, headers: headers) }

        let pathPart: Substring
        let queryItems: [(String, String)]
        if let q = raw.firstIndex(of: "?") {
            pathPart = raw[..<q]
            queryItems = decodeForm(raw[raw.index(after: q)...])
        } else {
            pathPart = raw[...]
            queryItems = []
        }
        // A copy of the state for routing; the log, waiters and faults are dropped from it so that later
        // appends to the log do not copy the whole array (copy-on-write).
        let snapshot = state.withLock { s -> State in
            var view = s
            view.log = []
            view.waiters = []
            view.faults = []
            view.stalled = [:]
            return view
        }
        let route = Self.route(server, String(pathPart), snapshot)

        var filePaths: Set<String> = []
        var repos: Set<RepoRef> = []
        if let p = route.filePath { filePaths.insert(p) }
        if let r = route.repo { repos.insert(r) }
        if case .cdnBlob(let sha) = route {
            for owner in snapshot.blobOwners[sha] ?? [] {
                filePaths.insert(owner.path)
                repos.insert(owner.repo)
            }
        }
        let action = takeFault(FaultProbe(
            server: server, method: method, rawTarget: raw, filePaths: filePaths, repos: repos, rangeHeader: headers["range"]))
        updateLog(logID) {
            $0.repo = repos.count == 1 ? repos.first : route.repo
            $0.filePath = route.filePath ?? (filePaths.count == 1 ? filePaths.first : nil)
            $0.fault = action
        }

        var reply: Reply
        switch action {
        case .status(let code):
            reply = Reply(status: code)
        case .tooManyRequests(let seconds):
            reply = .error(429, code: nil, "You have been rate-limited; retry after \(seconds) seconds.")
            reply.headers.append(("Retry-After", String(seconds)))
        case .expiredSignature:
            reply = .expired
        case .redirect(let location):
            reply = Reply(status: 302)
            reply.headers.append(("Location", location))
        default:
            var body: [UInt8] = []
            if method == "POST" {
                var req = request
                if let buffer = try? await req.collectBody(upTo: 16 << 20) { body = Array(buffer.readableBytesView) }
            }
            let info = RequestInfo(method: method, pathPart: String(pathPart), query: queryItems, headers: headers, body: body)
            reply = self.reply(route, info, snapshot, action: action)
        }
        updateLog(logID) { $0.status = reply.status }
        return makeResponse(reply, method: method, action: action, channel: channel, logID: logID)
    }

    /// Answers a routed request from a snapshot of the state.
    func reply(_ route: Route, _ req: RequestInfo, _ s: State, action: FaultRule.Action?) -> Reply {
        let isGetLike = req.method == "GET" || req.method == "HEAD"
        if s.rejectInvalidTokens, let token = req.bearerToken, !s.validTokens.contains(token) {
            if case .cdnBlob = route {} else {
                return .error(401, code: nil, "Invalid credentials in Authorization header")
            }
        }
        switch route {
        case .unknown, .unknownRepo:
            return .error(404, code: "RepoNotFound", "Repository not found")
        case .agentHarnesses:
            return .json(.object([("standardEnvVars", .array([])), ("harnesses", .object([]))]))
        case .cdnBlob(let sha):
            guard isGetLike else { return .error(405, code: nil, "Method not allowed") }
            return cdnReply(sha: sha, req, s, action: action)
        case .api(let repo, let kind):
            let r: RepoState
            switch access(repo, req, s) {
            case .failure(let denied): return denied
            case .success(let state): r = state
            }
            switch kind {
            case .info(let rev):
                guard isGetLike else { break }
                return infoReply(repo, r, rev: rev, req)
            case .tree(let rev, let path):
                guard isGetLike else { break }
                guard let commit = r.resolve(rev) else { return revisionNotFound(rev) }
                guard let entries = commit.entries(under: path, recursive: req.flag("recursive")) else {
                    return .error(404, code: "EntryNotFound", "\(path) does not exist on \"\(rev)\"", commit: commit.sha)
                }
                return paginated(entries.map(\.json), req, s)
            case .pathsInfo(let rev):
                guard req.method == "POST" || req.method == "HEAD" else { break }
                guard let commit = r.resolve(rev) else { return revisionNotFound(rev) }
                var seen = Set<String>()
                var out: [JSON] = []
                let form = decodeForm(Substring(String(decoding: req.body, as: UTF8.self)))
                for (key, value) in form where key == "paths" {
                    let p = value.split(separator: "/").joined(separator: "/")
                    guard seen.insert(p).inserted, let entry = commit.entry(at: p) else { continue }
                    out.append(entry.json)
                }
                return .json(.array(out))
            case .refs:
                guard isGetLike else { break }
                return refsReply(r, includePRs: req.flag("include_prs"))
            case .commits(let rev):
                guard isGetLike else { break }
                guard var commit = r.resolve(rev) else { return revisionNotFound(rev) }
                var items: [JSON] = []
                while true {
                    let title = commit.message.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
                    items.append(.object([
                        ("id", .string(commit.sha)), ("title", .string(title)), ("message", .string(commit.message)),
                        ("date", .string(commit.date)), ("authors", .array([.object([("user", "fakehub")])])),
                    ]))
                    guard let p = commit.parent, let next = r.commits[p] else { break }
                    commit = next
                }
                return paginated(items, req, s)
            case .unknown:
                return .error(404, code: "RepoNotFound", "Repository not found")
            }
            return .error(405, code: nil, "Method not allowed")
        case .resolve(let repo, let rev, let path):
            guard isGetLike else { return .error(405, code: nil, "Method not allowed") }
            let r: RepoState
            switch access(repo, req, s) {
            case .failure(let denied): return denied
            case .success(let state): r = state
            }
            guard let commit = r.resolve(rev) else { return revisionNotFound(rev) }
            guard var file = commit.files[path] else { return entryNotFound(path, rev, commit.sha) }
            if case .changeContent(let content) = action, let changed = try? file.replacingContent(content) {
                file = changed
                // Let the CDN serve the changed bytes too.
                if changed.lfs { state.withLock { $0.blobs[changed.sha256] = changed } }
            }
            return resolveReply(repo, file, commit: commit.sha, req, s, action: action)
        case .resolveCache(let repo, let sha, let path):
            guard isGetLike else { return .error(405, code: nil, "Method not allowed") }
            let r: RepoState
            switch access(repo, req, s) {
            case .failure(let denied): return denied
            case .success(let state): r = state
            }
            guard let commit = r.commits[sha] else { return revisionNotFound(sha) }
            guard var file = commit.files[path] else { return entryNotFound(path, sha, sha) }
            if case .changeContent(let content) = action, let changed = try? file.replacingContent(content) { file = changed }
            return contentReply(file, req, s, action: action, headers: [
                ("ETag", "\"\(file.etag)\""), ("X-Repo-Commit", commit.sha),
            ])
        }
    }

    enum Access { case success(RepoState), failure(Reply) }

    func access(_ repo: RepoRef, _ req: RequestInfo, _ s: State) -> Access {
        guard let r = s.repos[repo] else { return .failure(Reply.repoNotFound()) }
        let authorized = req.bearerToken.map { s.validTokens.contains($0) } ?? false
        if r.isPrivate && !authorized { return .failure(Reply.repoNotFound()) }
        if r.gated && !authorized {
            return .failure(Reply.error(
                403, code: "GatedRepo",
                "Access to \(repo.type.rawValue) \(repo.id) is restricted. You must have access to it and be authenticated to access it. Please log in."))
        }
        return .success(r)
    }

    func revisionNotFound(_ rev: String) -> Reply { .error(404, code: "RevisionNotFound", "Invalid rev id: \(rev)") }

    func entryNotFound(_ path: String, _ rev: String, _ commit: String) -> Reply {
        .error(404, code: "EntryNotFound", "Entry not found: \(path) does not exist on \"\(rev)\"", commit: commit)
    }

    func infoReply(_ repo: RepoRef, _ r: RepoState, rev: String, _ req: RequestInfo) -> Reply {
        guard let commit = r.resolve(rev) else { return revisionNotFound(rev) }
        let blobs = req.flag("blobs")
        let siblings: [JSON] = commit.files.values.sorted { $0.path < $1.path }.map { f in
            var fields: [(String, JSON)] = [("rfilename", .string(f.path))]
            if blobs {
                fields.append(("size", .int(f.size)))
                fields.append(("blobId", .string(f.blobID)))
                if f.lfs {
                    fields.append(("lfs", .object([("sha256", .string(f.sha256)), ("size", .int(f.size)), ("pointerSize", .int(Int64(f.pointerSize ?? 0)))])))
                }
            }
            return .object(fields)
        }
        var fields: [(String, JSON)] = [("id", .string(repo.id.description))]
        if let ns = repo.id.namespace { fields.append(("author", .string(ns))) }
        fields += [
            ("sha", .string(commit.sha)), ("lastModified", .string(commit.date)), ("createdAt", .string(FakeHub.isoDate(r.createdSequence))),
            ("private", .bool(r.isPrivate)), ("gated", r.gated ? "manual" : .bool(false)), ("disabled", .bool(false)),
            ("siblings", .array(siblings)),
        ]
        let expand = Set(req.queryAll("expand"))
        if !expand.isEmpty { fields = fields.filter { $0.0 == "id" || expand.contains($0.0) } }
        return .json(.object(fields))
    }

    func refsReply(_ r: RepoState, includePRs: Bool) -> Reply {
        func item(_ name: String, _ ref: String, _ sha: String) -> JSON {
            .object([("name", .string(name)), ("ref", .string(ref)), ("targetCommit", .string(sha))])
        }
        var fields: [(String, JSON)] = [
            ("branches", .array(r.branches.sorted { $0.key < $1.key }.map { item($0.key, "refs/heads/" + $0.key, $0.value) })),
            ("converts", .array(r.otherRefs.filter { $0.key.hasPrefix("refs/convert/") }.sorted { $0.key < $1.key }
                .map { item(String($0.key.dropFirst(13)), $0.key, $0.value) })),
            ("tags", .array(r.tags.sorted { $0.key < $1.key }.map { item($0.key, "refs/tags/" + $0.key, $0.value) })),
        ]
        if includePRs {
            fields.append(("pullRequests", .array(r.otherRefs.filter { $0.key.hasPrefix("refs/pr/") }.sorted { $0.key < $1.key }
                .map { item($0.key, $0.key, $0.value) })))
        }
        return .json(.object(fields))
    }

    /// One page of `items` from `?cursor=`, with an absolute `Link: <...>; rel="next"` built from `Host`.
    func paginated(_ items: [JSON], _ req: RequestInfo, _ s: State) -> Reply {
        let start = min(max(0, Int(req.query("cursor") ?? "") ?? 0), items.count)
        let end = min(items.count, start + s.pageSize)
        var headers: [(String, String)] = []
        if end < items.count {
            let host = req.headers["host"] ?? "\(s.hubHost):\(s.hubPort)"
            var query = req.query.filter { $0.0 != "cursor" }.map { "\(PercentEncoding.quote($0.0, safe: ""))=\(PercentEncoding.quote($0.1, safe: ""))" }
            query.append("cursor=\(end)")
            headers.append(("Link", "<http://\(host)\(req.pathPart)?\(query.joined(separator: "&"))>; rel=\"next\""))
        }
        return .json(.array(Array(items[start..<end])), headers: headers)
    }

    func resolveReply(_ repo: RepoRef, _ file: StoredFile, commit: String, _ req: RequestInfo, _ s: State, action: FaultRule.Action?) -> Reply {
        let quotedPath = PercentEncoding.filePath(file.path)
        let apiRepo = "\(repo.type.apiSegment)/\(repo.id)"
        var meta: [(String, String)] = [
            ("X-Repo-Commit", commit), ("X-Linked-Etag", "\"\(file.etag)\""), ("X-Linked-Size", String(file.size)),
        ]
        if s.liveHubStyle && file.lfs {
            let xet = Digest.hex(.sha256, of: Array("xet:\(file.sha256)".utf8))
            let cas = s.cdnPort.map { "http://\(s.cdnHost):\($0)" } ?? "http://\(s.hubHost):\(s.hubPort)"
            meta += [
                ("X-Xet-Hash", xet),
                ("Link", "<http://\(s.hubHost):\(s.hubPort)/api/\(apiRepo)/xet-read-token/\(commit)>; rel=\"xet-auth\", <\(cas)/v1/reconstructions/\(xet)>; rel=\"xet-reconstruction-info\""),
            ]
        }
        if file.lfs, let base = s.cdnBase {
            return Reply(status: 302, headers: [("Location", "\(base)/\(apiRepo)/\(quotedPath)"), ("ETag", "\"\(file.etag)\"")] + meta)
        }
        if s.liveHubStyle {
            if !file.lfs {
                let location = "/api/resolve-cache/\(apiRepo)/\(commit)/\(quotedPath)?etag=%22\(file.etag)%22"
                return Reply(
                    status: 307, headers: [("Location", location), ("X-Repo-Commit", commit), ("Content-Type", "text/plain; charset=utf-8")],
                    body: .data(Array("Temporary Redirect. Redirecting to \(location)".utf8)))
            }
            if let cdnPort = s.cdnPort {
                let expires = Int(Date().timeIntervalSince1970) + s.signedURLLifetime
                let location = "http://\(s.cdnHost):\(cdnPort)/repos/\(file.sha256)?expires=\(expires)&sig=\(signature(file.sha256, expires))"
                // Like HF: the ETag of the redirect is not the content hash; X-Linked-Etag is.
                return Reply(status: 302, headers: [("Location", location), ("ETag", "\"\(file.blobID)\"")] + meta)
            }
        }
        return contentReply(file, req, s, action: action, headers: [("ETag", "\"\(file.etag)\"")] + meta)
    }

    func signature(_ sha256: String, _ expires: Int) -> String {
        String(Digest.hex(.sha256, of: Array("\(signingKey):\(sha256):\(expires)".utf8)).prefix(32))
    }

    func cdnReply(sha: String, _ req: RequestInfo, _ s: State, action: FaultRule.Action?) -> Reply {
        guard let expiresText = req.query("expires"), let expires = Int(expiresText), req.query("sig") == signature(sha, expires) else {
            return Reply(status: 403, headers: [("Content-Type", "application/xml")],
                         body: .data(Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Invalid signature</Message></Error>".utf8)))
        }
        if expires <= Int(Date().timeIntervalSince1970) { return .expired }
        guard var file = s.blobs[sha] else {
            return Reply(status: 404, headers: [("Content-Type", "application/xml")],
                         body: .data(Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code></Error>".utf8)))
        }
        if case .changeContent(let content) = action, let changed = try? file.replacingContent(content) { file = changed }
        return contentReply(file, req, s, action: action, headers: [("ETag", "\"\(file.sha256)\"")])
    }

    /// 200 with the whole content, 206 for one satisfiable range (end clamped), 416 past the end.
    func contentReply(_ file: StoredFile, _ req: RequestInfo, _ s: State, action: FaultRule.Action?, headers: [(String, String)]) -> Reply {
        var headers = headers + [("Accept-Ranges", "bytes"), ("Content-Type", "application/octet-stream")]
        let total = file.size
        let ignoreRange = s.ignoreRangeAlways || action == .ignoreRange
        if let header = req.headers["range"], !ignoreRange, let spec = ByteRangeSpec.parse(header) {
            switch spec.resolve(total: total) {
            case .unsatisfiable:
                headers.append(("Content-Range", "bytes */\(total)"))
                return Reply(status: 416, headers: headers)
            case .satisfiable(let a, let b):
                headers.append(("Content-Range", "bytes \(a)-\(b)/\(total)"))
                return Reply(status: 206, headers: headers, body: .content(file.content, start: a, length: b - a + 1))
            }
        }
        return Reply(status: 200, headers: headers, body: .content(file.content, start: 0, length: total))
    }
}
