import Foundation
import HubCore
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

extension FakeHub {
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
}
