import Foundation
import HubCore
import HubDigest
import HubServer
import Logging
import Testing

/// A server running in-process on 127.0.0.1 with a free port, stopped by `stop()`.
final class TestServer: @unchecked Sendable {
    let url: String
    let port: Int
    private let task: Task<Void, any Error>

    private init(url: String, port: Int, task: Task<Void, any Error>) {
        self.url = url
        self.port = port
        self.task = task
    }

    static func start(_ config: HubServerConfiguration, pullThrough: (any PullThroughFetcher)? = nil) async throws -> TestServer {
        var logger = Logger(label: "servertests")
        logger.logLevel = .warning
        let server = HubServer(configuration: config, pullThrough: pullThrough, logger: logger)
        let (stream, cont) = AsyncStream<Result<HubServerAddress, any Error>>.makeStream()
        let task = Task {
            do {
                try await server.run(handleSignals: false) { address in cont.yield(.success(address)) }
                cont.yield(.failure(HubError(.store, "server stopped before listening")))
            } catch {
                cont.yield(.failure(error))
                throw error
            }
        }
        var it = stream.makeAsyncIterator()
        guard let first = await it.next() else { throw HubError(.store, "no listening event") }
        let address = try first.get()
        return TestServer(url: address.url, port: address.port, task: task)
    }

    /// Cancels the serving task and waits for the server to finish.
    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// Runs `body` against a fresh server over `cache`, always stopping it.
func withServer<T>(_ cache: TestCache, configure: (inout HubServerConfiguration) -> Void = { _ in },
                   pullThrough: (any PullThroughFetcher)? = nil,
                   _ body: (TestServer) async throws -> T) async throws -> T {
    var config = HubServerConfiguration(cacheDirectory: cache.root, port: 0, accessLog: false)
    config.tokens = ["sekrit-token"]
    configure(&config)
    let server = try await TestServer.start(config, pullThrough: pullThrough)
    do {
        let r = try await body(server)
        await server.stop()
        return r
    } catch {
        await server.stop()
        throw error
    }
}

extension WarmAnswersTests {
    /// Asks `warm` every call twice, makes `change`, then gives each call's next answer from `warm`
    /// with the answer of a server started after the change.
    static func afterChange(_ warm: TestServer, _ cache: TestCache, _ calls: [Call],
                            _ change: () throws -> Void) async throws -> [(call: Call, warm: String, fresh: String)] {
        for c in calls { _ = try await answer(warm, c); _ = try await answer(warm, c) }
        try change()
        let fresh = try await withServer(cache) { s in
            var out: [String] = []
            for c in calls { out.append(try await answer(s, c)) }
            return out
        }
        var out: [(call: Call, warm: String, fresh: String)] = []
        for (i, c) in calls.enumerated() { out.append((c, try await answer(warm, c), fresh[i])) }
        return out
    }
}

/// One HTTP exchange as curl saw it.
struct HTTPResult: CustomStringConvertible {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.last { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    var sha256: String { Digest.hex(.sha256, of: body) }
    var description: String { "\(status) \(headers.map { "\($0.name): \($0.value)" }) \(text.prefix(300))" }
}

/// Runs a program without blocking a cooperative thread (the server answers on the same pool).
func runProcess(_ executable: String, _ arguments: [String]) async throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    p.standardInput = FileHandle.nullDevice
    return try await withCheckedThrowingContinuation { cont in
        p.terminationHandler = { cont.resume(returning: $0.terminationStatus) }
        do { try p.run() } catch { cont.resume(throwing: error) }
    }
}

/// An HTTP request with curl, the target sent byte for byte (`--path-as-is`).
func http(_ url: String, method: String = "GET", headers: [String] = [], body: String? = nil) async throws -> HTTPResult {
    let (rc, result) = try await httpExchange(url, method: method, headers: headers, body: body)
    guard rc == 0 else { throw HubError(.network, "curl exited \(rc) for \(method) \(url)") }
    return result
}

/// Like `http`, but a body cut short is not an error: curl's exit status comes back with what arrived.
func httpExchange(_ url: String, method: String = "GET", headers: [String] = [], body: String? = nil) async throws -> (curlStatus: Int32, result: HTTPResult) {
    let dir = NSTemporaryDirectory() + "hubmirror-curl-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var args = ["-s", "-S", "--path-as-is", "-D", dir + "/h", "-o", dir + "/b", "--max-time", "30"]
    if method == "HEAD" { args.append("-I") } else if method != "GET" { args += ["-X", method] }
    for h in headers { args += ["-H", h] }
    if let body { args += ["--data-binary", body] }
    args.append(url)
    let rc = try await runProcess("/usr/bin/curl", args)
    let raw = String(decoding: FileManager.default.contents(atPath: dir + "/h") ?? Data(), as: UTF8.self)
    var status = 0
    var fields: [(String, String)] = []
    for line in raw.split(separator: "\r\n", omittingEmptySubsequences: true) {
        if line.hasPrefix("HTTP/") {
            status = Int(line.split(separator: " ")[1]) ?? 0
            fields = []
        } else if let colon = line.firstIndex(of: ":") {
            fields.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
    }
    // With -I curl writes the headers to the body file: a HEAD answer has no body.
    let bytes = method == "HEAD" ? [] : FileManager.default.contents(atPath: dir + "/b").map { [UInt8]($0) } ?? []
    return (rc, HTTPResult(status: status, headers: fields, body: bytes))
}

/// Expects a Hub error answer: status and `X-Error-Code`.
func expectHubError(_ r: HTTPResult, _ status: Int, _ code: String?, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == status, "\(r)", sourceLocation: sourceLocation)
    #expect(r.header("X-Error-Code") == code, "\(r)", sourceLocation: sourceLocation)
}
