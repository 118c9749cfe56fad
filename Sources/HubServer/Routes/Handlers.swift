internal import Foundation
internal import HTTPTypes
internal import HubCore
internal import HubStore
internal import Hummingbird
internal import NIOCore

/// The handlers of one request.
struct Handlers {
    let state: ServerState
    let request: Request
    let context: HubRequestContext
    let query: QueryItems
    /// The metrics label of the route, refined once the reading of an ambiguous path is chosen.
    let label: Locked<String>
    /// What the answer was built from (every store read goes through `state.index` with it).
    let seen: StoreFacts

    var method: HTTPRequest.Method { request.method }
    var isHead: Bool { method == .head }

    func handle(_ route: Route) async throws -> Response {
        switch route {
        case .healthz:
            try allow(.get, .head)
            return text("ok", contentType: "text/plain; charset=utf-8")
        case .metrics:
            try allow(.get, .head)
            await state.metrics.storeScanned.wait(atMost: .seconds(2))
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: state.metrics.exposition())))
        case .agentHarnesses:
            try allow(.get, .head)
            return json(Array(#"{"standardEnvVars":[],"harnesses":{}}"#.utf8))
        case .notFound:
            throw HubHTTPError.notFound()
        case .api(let type, let readings):
            return try await api(type, readings)
        case .resolve(let readings):
            return try await resolve(readings)
        case .peer(let segments):
            return try await peer(segments)
        }
    }

    // MARK: - Responses

    func allow(_ methods: HTTPRequest.Method...) throws {
        guard methods.contains(method) else {
            throw HubHTTPError.methodNotAllowed(methods.map(\.rawValue).joined(separator: ", "))
        }
    }

    func json(_ bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
        json(ByteBuffer(bytes: bytes), headers: headers)
    }

    func json(_ buffer: ByteBuffer, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json; charset=utf-8"
        seen.bodyBytes = buffer.readableBytes
        return Response(status: .ok, headers: h, body: .init(byteBuffer: buffer))
    }

    func text(_ s: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    // MARK: - Repos, access, revisions

    /// The first reading naming a repo the store holds, else the first that is a valid repo id.
    func choose<R>(_ readings: [R], type: (R) -> RepoType, segments: (R) -> [Substring]) -> (R, RepoRef)? {
        let parsed = readings.compactMap { r in RouteMemo.repoID(segments(r)).map { (r, RepoRef(type: type(r), id: $0)) } }
        if parsed.count == 1 { return parsed[0] }
        return parsed.first { state.index.repoExists($0.1, seen: seen) } ?? parsed.first
    }

    /// Private and gated repos need a configured bearer token; what is not allowed is not there.
    func checkVisibility(_ repo: RepoRef) throws {
        switch state.policy.decide(repo, info: state.index.repoInfo(repo, seen: seen), authorization: request.headers[.authorization]) {
        case .granted: return
        case .hidden: throw HubHTTPError.repoNotFound(repo.description)
        case .gated: throw HubHTTPError.gated(repo)
        }
    }

    /// Checks the caller may see `repo` and finds the commit `revision` names (nil: the default
    /// revision), listing it upstream when that is configured and the store lacks it.
    func commit(_ repo: RepoRef, revision: String?) async throws -> String {
        guard state.policy.isAllowed(repo) else { throw HubHTTPError.repoNotFound(repo.description) }
        if let revision, let local = state.index.commit(repo, revision: revision, seen: seen) {
            // A revision that resolves implies the repo is held: the same checks as below, in one step.
            try checkVisibility(repo)
            return local
        }
        if state.index.repoExists(repo, seen: seen) {
            try checkVisibility(repo)
            let local = revision.map { state.index.commit(repo, revision: $0, seen: seen) } ?? state.index.defaultCommit(repo, seen: seen)
            if let local { return local }
            guard state.pull != nil else {
                if let revision { throw HubHTTPError.revisionNotFound(repo, revision) }
                throw HubHTTPError.repoNotFound(repo.description)
            }
        } else if state.pull == nil {
            throw HubHTTPError.repoNotFound(repo.description)
        }
        let listed = try await listUpstream(repo, revision: revision ?? Revision.defaultBranch)
        try checkVisibility(repo)
        guard let c = state.index.commit(repo, revision: listed, seen: seen) else {
            throw HubHTTPError(status: .badGateway, code: nil, message: "upstream listing of \(repo) did not record commit \(listed)")
        }
        return c
    }

    /// Waits for the pull-through listing of `repo@revision`; a HEAD waits at most
    /// `pullThroughHeadWait`, then gets `503` + `Retry-After` while the listing goes on.
    func listUpstream(_ repo: RepoRef, revision: String) async throws -> String {
        guard let pull = state.pull else { throw HubHTTPError.revisionNotFound(repo, revision) }
        let task = await pull.listing(repo: repo, revision: revision, metrics: state.metrics)
        do {
            if isHead {
                guard let result = try await Self.value(of: task, waitingAtMost: state.config.pullThroughHeadWait) else {
                    var e = HubHTTPError(status: .serviceUnavailable, code: nil, message: "listing \(repo)@\(revision) upstream; retry shortly")
                    e.headers[.retryAfter] = "5"
                    throw e
                }
                return result
            }
            return try await task.value
        } catch {
            throw Self.upstreamError(error, repo: repo, revision: revision, path: nil)
        }
    }

    /// A pull-through failure as the Hub error a client understands.
    static func upstreamError(_ error: any Error, repo: RepoRef, revision: String, path: String?) -> any Error {
        guard let e = error as? HubError else { return error }
        switch e.kind {
        case .repoNotFound, .unauthorized: return HubHTTPError.repoNotFound(repo.description)
        case .revisionNotFound: return HubHTTPError.revisionNotFound(repo, revision)
        case .entryNotFound where path != nil: return HubHTTPError.entryNotFound(repo, commit: revision, path: path!)
        case .gated: return HubHTTPError.gated(repo)
        default:
            let what = path.map { "\(repo)@\(revision):\($0)" } ?? "\(repo)@\(revision)"
            var err = HubHTTPError(status: e.isRetryable ? .serviceUnavailable : .badGateway, code: nil,
                                   message: "upstream fetch of \(what) failed: \(e.message)")
            // A 502 for content in its failure cool-down says when it will be fetched again.
            if let after = e.retryAfter ?? (e.isRetryable ? 5 : nil) { err.headers[.retryAfter] = String(Int(after.rounded(.up))) }
            return err
        }
    }

    /// The task's value, or nil once `limit` has passed; the task itself goes on either way.
    static func value<T: Sendable>(of task: Task<T, any Error>, waitingAtMost limit: Duration) async throws -> T? {
        let once = Locked(false)
        func claim() -> Bool { once.withLock { done in defer { done = true }; return !done } }
        return try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T?, any Error>) in
            Task {
                do {
                    let v = try await task.value
                    if claim() { cont.resume(returning: v) }
                } catch {
                    if claim() { cont.resume(throwing: error) }
                }
            }
            Task {
                try? await Task.sleep(for: limit)
                if claim() { cont.resume(returning: nil) }
            }
        }
    }

    /// Splits `{rev}/{path…}` segments. The revision is one encoded segment (`refs%2Fpr%2F1`), but
    /// unencoded `refs/pr/1` and `feature/x` are accepted too when such a ref exists locally.
    func splitRevision(_ rest: [Substring], repo: RepoRef, needsPath: Bool) throws -> (revision: String, path: [Substring]) {
        guard let first = rest.first, !first.isEmpty, let firstDecoded = PercentEncoding.decode(String(first)) else {
            throw HubHTTPError.revisionNotFound(repo, String(rest.first ?? ""))
        }
        let maxK = needsPath ? rest.count - 1 : rest.count
        if maxK >= 2, state.index.repoExists(repo, seen: seen), state.index.commit(repo, revision: firstDecoded, seen: seen) == nil {
            for k in 2...maxK {
                let parts = rest[0..<k].compactMap { PercentEncoding.decode(String($0)) }
                guard parts.count == k else { break }
                let rev = parts.joined(separator: "/")
                if state.index.commit(repo, revision: rev, seen: seen) != nil { return (rev, Array(rest[k...])) }
            }
        }
        // `refs/pr/N` and `refs/convert/X` as olah forwards them: three raw segments.
        if first == "refs", rest.count >= 3, rest[1] == "pr" || rest[1] == "convert", !needsPath || rest.count >= 4 {
            return ("refs/\(rest[1])/\(rest[2].removingPercentEncodingSafe)", Array(rest[3...]))
        }
        return (firstDecoded, Array(rest.dropFirst()))
    }

    /// A repo path from raw segments, each percent-decoded; nil when empty or unsafe.
    func decodePath(_ segments: [Substring]) throws -> String {
        var parts: [String] = []
        for s in segments {
            guard let d = PercentEncoding.decode(String(s)) else { throw HubHTTPError.badRequest("invalid percent-encoding in path") }
            parts.append(d)
        }
        let path = parts.joined(separator: "/")
        if let why = RemotePath.problem(with: path) { throw HubHTTPError.badRequest("invalid path \(path.debugDescription): \(why)") }
        return path
    }

    func view(_ repo: RepoRef, _ commit: String) async throws -> CommitView {
        guard let v = try await state.index.view(repo, commit: commit, seen: seen) else { throw HubHTTPError.revisionNotFound(repo, commit) }
        return v
    }

    /// Where clients reach this server: `--public-url`, else `http://` + the `Host` header.
    func baseURL() -> String {
        if let p = state.config.publicURL {
            var s = p
            while s.hasSuffix("/") { s.removeLast() }
            return s
        }
        if let host = request.head.authority, !host.isEmpty,
           host.utf8.allSatisfy({ c in (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 46 || c == 45 || c == 58 || c == 91 || c == 93 || c == 95 }) {
            return "http://" + host
        }
        return state.boundAddress.withLock { $0 }?.url ?? "http://\(state.config.host):\(state.config.port)"
    }
}

extension Substring {
    var removingPercentEncodingSafe: String { PercentEncoding.decode(String(self)) ?? String(self) }
}
