internal import HTTPTypes
internal import HubCore
internal import HubStore
internal import Hummingbird
internal import CoreMetrics
internal import Logging
internal import NIOCore
internal import NIOPosix

/// The request context: Hummingbird's core storage plus the peer address for the access log.
struct HubRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress.map { $0.ipAddress ?? "\($0)" }
    }

    /// paths-info bodies can list many paths.
    var maxUploadSize: Int { 16 * 1024 * 1024 }
}

/// Everything the handlers share for the life of the server.
final class ServerState: Sendable {
    let config: HubServerConfiguration
    let store: CacheStore
    let index: StoreIndex
    let policy: AccessPolicy
    let metrics: ServerMetrics
    let pull: PullThroughCoordinator?
    let cutStreams = CutStreams()
    let smallBlobs = SmallBlobs()
    let answers = AnswerCache()
    let logger: Logger
    let fileIO: FileIO
    let boundAddress = Locked<HubServerAddress?>(nil)

    init(config: HubServerConfiguration, fetcher: (any PullThroughFetcher)?, logger: Logger) {
        self.config = config
        self.store = CacheStore(root: config.cacheDirectory)
        self.index = StoreIndex(store: store, listMissing: fetcher != nil, watch: config.watchStore)
        self.policy = AccessPolicy(tokens: config.tokens, allow: config.allow)
        self.metrics = ServerMetrics()
        self.pull = fetcher.map { PullThroughCoordinator(fetcher: $0, logger: logger, failureCooldown: config.pullThroughFailureCooldown) }
        self.logger = logger
        self.fileIO = FileIO(threadPool: .singleton)
        if config.watchStore && index.watch == nil {
            logger.notice("store watch unavailable (inotify): kept answers are checked against the store on every request",
                          metadata: ["cache_dir": "\(config.cacheDirectory)"])
        }
    }
}

/// Answers every request: routes on the raw path (see `Route`), turns `HubHTTPError`s into Hub
/// error responses, and records metrics and the access log line once the body is written.
struct HubResponder: HTTPResponder {
    typealias Context = HubRequestContext
    let state: ServerState

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        state.metrics.inFlight.increment()
        let target = request.head.path ?? "/"
        // Searched as bytes: a search by `Character` walks grapheme clusters (a microsecond on a long path).
        let qmark = target.utf8.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = qmark.map { target[..<$0] } ?? target[...]
        let query = QueryItems(qmark.map { target[target.index(after: $0)...] })
        let route = RouteMemo.route(rawPath)
        let isHead = request.method == .head
        // Pull-through answers depend on the upstream too: never kept.
        let key = state.pull == nil ? AnswerCache.Key.init(route: route, request: request, policy: state.policy) : nil

        var response: Response
        var errorCode: String?
        let routeLabel: String
        if key == nil, route.readsStore { state.index.watch?.drain() }
        if let key, let kept = state.answers.answer(key, index: state.index) {
            response = kept.response
            routeLabel = kept.label
        } else {
            let label = Locked(route.metricsLabel)
            let seen = StoreFacts()
            do {
                let handlers = Handlers(state: state, request: request, context: context, query: query, label: label, seen: seen)
                response = try await handlers.handle(route)
                if let key { state.answers.keep(key, response: response, label: label.withLock { $0 }, facts: seen, index: state.index) }
            } catch let e as HubHTTPError {
                response = e.response()
                errorCode = e.metricsCode
            } catch {
                context.logger.error("request failed", metadata: ["error": "\(error)", "target": "\(target)"])
                response = HubHTTPError(status: .internalServerError, code: nil, message: "Internal error").response()
                errorCode = "Internal"
            }
            routeLabel = label.withLock { $0 }
        }
        let requestID = context.id
        // No handler sets it: appended, not searched for and replaced.
        response.headers.append(HTTPField(name: .xRequestID, value: requestID))
        if isHead { response = Self.headResponse(response) }

        let status = Int(response.status.code)
        let metrics = state.metrics
        metrics.request(route: routeLabel, method: request.method.rawValue, status: status, duration: ContinuousClock.now - started)
        if let errorCode { metrics.error(route: routeLabel, code: errorCode) }

        let logger = state.config.accessLog ? context.logger : nil
        let remote = context.remoteAddress ?? "-"
        let agent = request.headers[.userAgent] ?? "-"
        let method = request.method.rawValue
        let done: @Sendable (Int64, (any Error)?) -> Void = { bytes, error in
            metrics.inFlight.decrement()
            metrics.bytesSent(route: routeLabel, count: bytes)
            guard let logger else { return }
            let tenths = ((ContinuousClock.now - started).nanoseconds + 50_000) / 100_000   // milliseconds, one decimal
            var meta: Logger.Metadata = ["remote": "\(remote)", "user_agent": "\(agent)"]
            if let error { meta["error"] = "\(error)" }
            logger.info("\(method) \(target) \(status) \(bytes) \(tenths / 10).\(tenths % 10)ms", metadata: meta)
        }
        if isHead {
            done(0, nil)
            return response
        }
        let body = response.body
        let counted = ResponseBody(contentLength: body.contentLength) { writer in
            let tally = ByteTally()
            do {
                try await body.write(TallyingWriter(inner: writer, tally: tally))
                done(tally.count, nil)
            } catch {
                done(tally.count, error)
                throw error
            }
        }
        return Response(status: response.status, headers: response.headers, body: counted)
    }

    /// The same response without a body. A response without `Content-Length` (a huge file's HEAD)
    /// must not get `Content-Length: 0` either, so it gets an unsized empty body.
    static func headResponse(_ r: Response) -> Response {
        if r.headers[.contentLength] != nil {
            return Response(status: r.status, headers: r.headers, body: .init())
        }
        return Response(status: r.status, headers: r.headers, body: ResponseBody(contentLength: nil) { try await $0.finish(nil) })
    }
}

/// Counts body bytes; used by one writing task at a time.
final class ByteTally: @unchecked Sendable {
    var count: Int64 = 0
}

struct TallyingWriter: ResponseBodyWriter {
    var inner: any ResponseBodyWriter
    let tally: ByteTally

    mutating func write(_ buffer: ByteBuffer) async throws {
        // A sendfile marker stands for the file range it names.
        let bytes = Sendfile.length(ofMarker: buffer) ?? Int64(buffer.readableBytes)
        try await inner.write(buffer)
        tally.count += bytes
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        let w = inner
        try await w.finish(trailingHeaders)
    }
}
