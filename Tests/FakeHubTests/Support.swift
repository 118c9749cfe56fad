import Foundation
import HubCore
import HubFakeHub

/// What one `curl` run returned: the last response's status and headers, the body, the exit code.
struct CurlResult {
    var exitCode: Int32
    var status: Int
    /// Header names lowercased; the last response only (after redirects followed with -L).
    var headers: [String: String]
    var body: [UInt8]
    var stderr: String

    func header(_ name: String) -> String? { headers[name.lowercased()] }
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) }
}

/// Runs `curl -sS <args>` as a subprocess (no shell), awaiting its exit without polling.
func curl(_ args: String...) async throws -> CurlResult { try await curl(args) }

func curl(_ args: [String]) async throws -> CurlResult {
    let dir = try TempDir()
    let headerFile = dir.path("headers")
    let bodyFile = dir.path("body")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["curl", "-sS", "-D", headerFile, "-o", bodyFile, "-w", "%{http_code}"] + args
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let code = try await runToExit(process)
    let statusText = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let rawHeaders = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
    var headers: [String: String] = [:]
    for line in rawHeaders.components(separatedBy: "\r\n") {
        if line.hasPrefix("HTTP/") { headers = [:]; continue }
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let body = (try? Data(contentsOf: URL(fileURLWithPath: bodyFile))).map { [UInt8]($0) } ?? []
    return CurlResult(exitCode: code, status: Int(statusText) ?? 0, headers: headers, body: body, stderr: stderr)
}

/// Starts `process` and waits for it to exit.
func runToExit(_ process: Process) async throws -> Int32 {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        process.terminationHandler = { p in continuation.resume(returning: p.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
}

/// A temporary folder removed when the value is released.
final class TempDir: @unchecked Sendable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("fakehub-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// A hub with one small model `acme/tiny`: a text file and a 3 MiB + 5 pattern LFS file.
func withTinyHub(cdn: Bool = true, _ body: (FakeHub, String) async throws -> Void) async throws {
    try await FakeHub.withHub(cdn: cdn) { hub in
        let sha = try hub.commit(tiny, files: [
            "README.md": "# tiny\n",
            "model.bin": .pattern(seed: 42, size: bigSize, lfs: true),
            "sub/dir/w.bin": .pattern(seed: 7, size: 1000, lfs: true),
        ])
        try await body(hub, sha)
    }
}

let tiny = FakeHub.model("acme/tiny")
let bigSize: Int64 = 3 * 1024 * 1024 + 5
let bigContent = FakeHub.FileContent.pattern(seed: 42, size: bigSize)

extension Dictionary where Key == String, Value == Any {
    subscript(string key: String) -> String? { self[key] as? String }
}

/// Offsets where two equally long byte arrays differ (a plain loop: fast enough in debug builds).
func differingOffsets(_ a: [UInt8], _ b: [UInt8]) -> [Int] {
    precondition(a.count == b.count)
    return a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            var out: [Int] = []
            for i in 0..<pa.count where pa[i] != pb[i] { out.append(i) }
            return out
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs blocking work on a Dispatch thread, keeping Swift's small cooperative pool (which the server's
/// handlers need) free.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}

/// A minimal blocking HTTP/1.1 client over one TCP connection, to hold a connection open (keep-alive)
/// and see exactly what the server sends. Call its reads through `offPool`.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FakeHubError("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw FakeHubError("connect: errno \(errno)") }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw FakeHubError("send: errno \(errno)")
        }
    }

    /// Reads until `count` bytes arrived or the peer closed; returns what came and the last recv result.
    func receive(upTo count: Int) -> (bytes: [UInt8], lastResult: Int, errno: Int32) {
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while out.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - out.count), 0) }
            if n <= 0 { return (out, n, errno) }
            out += buffer[0..<n]
        }
        return (out, out.count, 0)
    }

    /// Reads one response head (up to the blank line).
    func receiveHead() -> String {
        var out = [UInt8]()
        while !out.suffix(4).elementsEqual([13, 10, 13, 10]) {
            let r = receive(upTo: 1)
            if r.bytes.isEmpty { break }
            out += r.bytes
        }
        return String(decoding: out, as: UTF8.self)
    }
}
