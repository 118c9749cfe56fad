internal import HubCore
internal import HubStore
internal import Hummingbird
public import Logging
internal import NIOCore
internal import ServiceLifecycle
internal import UnixSignals

/// `hubmirror serve`: the Hugging Face Hub download API (hub-protocol.md) over a huggingface_hub
/// cache folder, so that `huggingface_hub` (`HF_ENDPOINT=…`), `hf download` and other mirrors such
/// as olah can download from it.
///
/// ```swift
/// let server = HubServer(configuration: .init(cacheDirectory: "/srv/hf/hub", port: 0))
/// try await server.run { address in print("listening on \(address.url)") }
/// ```
public struct HubServer: Sendable {
    public let configuration: HubServerConfiguration
    let state: ServerState
    let logger: Logger

    /// - Parameters:
    ///   - pullThrough: fetches repos and revisions the store lacks (`--upstream`); nil serves the store only.
    ///   - logger: used for the access log and server events. The server never bootstraps logging.
    public init(configuration: HubServerConfiguration, pullThrough: (any PullThroughFetcher)? = nil,
                logger: Logger = Logger(label: "hubmirror.serve")) {
        self.configuration = configuration
        self.logger = logger
        self.state = ServerState(config: configuration, fetcher: pullThrough, logger: logger)
    }

    /// Binds, calls `onListening` with the bound address (the real port when `port` is 0), and
    /// serves until SIGTERM or SIGINT (when `handleSignals`) or until the calling task is cancelled.
    /// Either way shutdown is graceful: the listener closes, requests in flight finish.
    ///
    /// Throws `.usage` when `host` is not an address or resolvable name, and `.listen` when the
    /// address cannot be bound (port in use, not permitted, not an address of this machine).
    public func run(handleSignals: Bool = true,
                    onListening: @escaping @Sendable (HubServerAddress) async -> Void = { _ in }) async throws {
        let state = self.state
        let config = configuration
        try ListenAddress.check(host: config.host, port: config.port)
        let app = Application(
            responder: HubResponder(state: state),
            server: .http1(configuration: .init(additionalChannelHandlers: [SendfileHandler()])),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
            onServerRunning: { channel in
                let address = HubServerAddress(host: config.host, port: channel.localAddress?.port ?? config.port)
                state.boundAddress.withLock { $0 = address }
                await onListening(address)
            },
            logger: logger
        )
        let stats = StoreStatsService(store: state.store, metrics: state.metrics, interval: config.storeStatsInterval)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: app),
            .init(service: stats, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore),
        ]
        if let fetcher = state.pull?.fetcher {
            services.append(.init(service: PullThroughStopper(fetcher: fetcher), successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            logger: logger
        ))
        // Cancelling the caller shuts down gracefully too: the group runs in its own task, so the
        // cancellation does not cut requests in flight; it asks the group to wind down instead.
        let running = Task { try await group.run() }
        do {
            try await withTaskCancellationHandler {
                try await running.value
            } onCancel: {
                Task { await group.triggerGracefulShutdown() }
            }
        } catch where state.boundAddress.withLock({ $0 == nil }) {
            throw ListenAddress.bindFailure(error, host: config.host, port: config.port) ?? error
        }
    }
}
