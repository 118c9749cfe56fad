import Foundation
import HubCore
import HubDigest
import HubFakeHub
import HubServer
import HubStore
import HubSync
import HubTransfer
import Logging
import Testing

/// A temp folder removed when the test ends.
final class TempDir: @unchecked Sendable {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "hubmirror-peer-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A mirror: a cache folder, and `hubmirror serve` over it while `serving` runs.
struct Mirror {
    let cache: String

    /// Serves the cache on 127.0.0.1 with a free port for the length of `body`.
    func serving<T>(tokens: Set<String> = [], _ body: (String) async throws -> T) async throws -> T {
        var config = HubServerConfiguration(cacheDirectory: cache, port: 0, accessLog: false)
        config.tokens = tokens
        var logger = Logger(label: "peertests")
        logger.logLevel = .critical
        let server = HubServer(configuration: config, pullThrough: nil, logger: logger)
        let (stream, cont) = AsyncStream<Result<String, any Error>>.makeStream()
        let task = Task {
            do {
                try await server.run(handleSignals: false) { address in cont.yield(.success(address.url)) }
            } catch {
                cont.yield(.failure(error))
            }
        }
        var it = stream.makeAsyncIterator()
        guard let url = try await it.next()?.get() else { throw HubError(.store, "server did not start") }
        do {
            let r = try await body(url)
            task.cancel()
            _ = await task.result
            return r
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
    }
}

/// Fast retries for tests.
func testTransfer() -> TransferOptions {
    var o = TransferOptions()
    o.retry.baseDelay = 0.01
    o.retry.maxDelay = 0.05
    o.stallTimeout = 2
    o.chunkSize = 1 << 20
    return o
}

/// Runs a sync request on its own thread.
func syncRequest(_ r: SyncRequest, onEvent: @escaping @Sendable (TransferEvent) -> Void = { _ in }) async throws -> SyncResult {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<SyncResult, any Error>) in
        let t = Thread {
            do { c.resume(returning: try Syncer(request: r).sync(onEvent: onEvent).0) } catch { c.resume(throwing: error) }
        }
        t.stackSize = 4 << 20
        t.start()
    }
}

/// A sync of `repo` into `cache` from `hub`, with peers, on its own thread.
func sync(_ repo: RepoRef, hub: FakeHub, into cache: String, peers: [String] = [], peerToken: String? = nil, token: String? = nil) async throws -> SyncResult {
    var request = SyncRequest(repo: repo, endpoint: hub.endpoint, token: token, location: .cache(cache), transfer: testTransfer())
    request.peers = peers.map { .init(url: $0, token: peerToken) }
    return try await syncRequest(request)
}

/// Bytes the fake hub (and its CDN) sent for file content.
func contentBytes(_ hub: FakeHub) -> Int64 {
    hub.requests.filter { $0.filePath != nil && $0.method == "GET" }.reduce(0) { $0 + $1.bytesSent }
}

func sha256(ofFile path: String) -> String? {
    guard let d = FileManager.default.contents(atPath: path) else { return nil }
    return Digest.hex(.sha256, of: [UInt8](d))
}
