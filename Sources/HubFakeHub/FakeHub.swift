import Foundation
import HubCore
import Hummingbird
import Logging
import NIOCore

/// A real HTTP server on 127.0.0.1 (port 0) that behaves like an HF-compatible hub, plus a separate CDN
/// host (127.0.0.2) for live-Hub-style LFS redirects, with fault injection and a request log.
///
/// All state is behind a lock, so tests can change repos, faults and settings while the servers run.
/// ```
/// try await FakeHub.withHub { hub in
///     let sha = try hub.commit(FakeHub.model("acme/tiny"), files: ["README.md": "# tiny\n"])
///     hub.addFault(.init(.hub, match: .file("README.md"), action: .status(503)))
///     // run a client against hub.endpoint ...
/// }
/// ```
public final class FakeHub: Sendable {
    struct State: Sendable {
        var repos: [RepoRef: RepoState] = [:]
        var sequence = 0
        var validTokens: Set<String> = []
        var rejectInvalidTokens = false
        var pageSize = 1000
        var liveHubStyle = false
        var cdnBase: String?
        var ignoreRangeAlways = false
        var signedURLLifetime = 3600
        var faults: [ActiveFault] = []
        var nextFaultID = 1
        var log: [LoggedRequest] = []
        var nextRequestID = 0
        var waiters: [RequestWaiter] = []
        var nextWaiterID = 1
        /// sha256 -> a stored file with that content (for the CDN).
        var blobs: [String: StoredFile] = [:]
        /// sha256 -> (repo, path) pairs holding it.
        var blobOwners: [String: Set<BlobOwner>] = [:]
        /// Channels of stalled responses, closed on stop.
        var stalled: [Int: any Channel] = [:]
        /// Stalls registered so far, and who waits for a number of them.
        var stallsSeen = 0
        var stallWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var onRequest: (@Sendable (LoggedRequest) -> Void)?
        var onComplete: (@Sendable (LoggedRequest) -> Void)?
        var hubPort = 0
        var hubHost = "127.0.0.1"
        var cdnPort: Int?
        var cdnHost = "127.0.0.2"
        var stopped = false
    }

    struct BlobOwner: Hashable, Sendable { var repo: RepoRef; var path: String }

    let state = Locked(State())
    let tasks = Locked<[Task<Void, Never>]>([])
    /// Secret for CDN URL signatures.
    let signingKey: String = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()

    init() {}

    // MARK: Lifecycle

    /// Starts the hub on `host:port` (port 0 = any free port) and, with `cdn`, a CDN server on `cdnHost`
    /// (127.0.0.2, a different origin; falls back to `host` with another port where that cannot be bound).
    /// Returns once both are listening.
    public static func start(cdn: Bool = true, host: String = "127.0.0.1", port: Int = 0, cdnHost: String = "127.0.0.2") async throws -> FakeHub {
        let hub = FakeHub()
        do {
            let hubPort = try await hub.launch(server: .hub, host: host, port: port)
            hub.state.withLock { $0.hubPort = hubPort; $0.hubHost = host }
            if cdn {
                var boundHost = cdnHost
                let cdnPort: Int
                do {
                    cdnPort = try await hub.launch(server: .cdn, host: cdnHost, port: 0)
                } catch {
                    boundHost = host
                    cdnPort = try await hub.launch(server: .cdn, host: host, port: 0)
                }
                hub.state.withLock { $0.cdnPort = cdnPort; $0.cdnHost = boundHost }
            }
        } catch {
            await hub.stop()
            throw error
        }
        return hub
    }

    /// Runs `body` with a started hub and always stops it afterwards.
    public static func withHub<T: Sendable>(cdn: Bool = true, _ body: (FakeHub) async throws -> T) async throws -> T {
        let hub = try await start(cdn: cdn)
        do {
            let result = try await body(hub)
            await hub.stop()
            return result
        } catch {
            await hub.stop()
            throw error
        }
    }

    /// Ends every stalled response now (its connection is closed, so the client sees a short body);
    /// returns how many there were.
    @discardableResult
    public func releaseStalls() -> Int {
        let stalled = state.withLock { s -> [any Channel] in
            let c = Array(s.stalled.values)
            s.stalled = [:]
            return c
        }
        for channel in stalled { channel.close(promise: nil) }
        return stalled.count
    }

    /// Returns once `count` responses have stalled since the hub started (at once if they have), so a
    /// test can act while a download is provably held.
    public func waitForStalls(_ count: Int = 1) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.stallsSeen >= count { return true }
                s.stallWaiters.append((count, c))
                return false
            }
            if ready { c.resume() }
        }
    }

    /// The number of responses stalled right now.
    public var stalledCount: Int { state.withLock { $0.stalled.count } }

    /// Stops both servers: stalled responses are released, open connections closed, and waiters failed.
    public func stop() async {
        let (stalled, waiters, stallWaiters) = state.withLock { s -> ([any Channel], [RequestWaiter], [CheckedContinuation<Void, Never>]) in
            s.stopped = true
            let w = s.waiters
            s.waiters = []
            let sw = s.stallWaiters.map(\.continuation)
            s.stallWaiters = []
            return (Array(s.stalled.values), w, sw)
        }
        for c in stallWaiters { c.resume() }
        for channel in stalled { channel.close(promise: nil) }
        for w in waiters { w.continuation.resume(throwing: FakeHubError("fake hub stopped")) }
        let running = tasks.withLock { t -> [Task<Void, Never>] in
            let all = t
            t = []
            return all
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    /// Binds one server and returns its port once it is listening.
    private func launch(server: Server, host: String, port: Int) async throws -> Int {
        var logger = Logger(label: "hubmirror.fakehub.\(server.rawValue)")
        logger.logLevel = .critical
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            responder: FakeHubResponder(hub: self, server: server),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
            },
            logger: logger)
        let failure = Locked<(any Error)?>(nil)
        let task = Task {
            do {
                try await app.run()
            } catch {
                failure.withLock { $0 = error }
            }
            continuation.finish()
        }
        tasks.withLock { $0.append(task) }
        var iterator = stream.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            throw failure.withLock { $0 } ?? FakeHubError("\(server) server on \(host):\(port) did not start")
        }
        return bound
    }
}
