import Foundation
import HubCore
import HubFakeHub
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct LifecycleTests {
    @Test func waitForRequestsAndHooks() async throws {
        try await withTinyHub(cdn: false) { hub, _ in
            let seen = Counter()
            hub.onRequest = { _ in seen.add() }
            let url = "\(hub.endpoint)/acme/tiny/resolve/main/README.md"
            // Wait first, then send: the waiter resumes when the third request completes.
            async let waited = hub.waitForRequests(3, phase: .completed) { $0.filePath == "README.md" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 { group.addTask { _ = try await curl(url) } }
                try await group.waitForAll()
            }
            let hits = try await waited
            #expect(hits.count == 3 && hits.allSatisfy { $0.completed && $0.bytesSent == 7 && $0.status == 200 })
            #expect(seen.value == 3)
            #expect(hub.bytesSent(path: "README.md") == 21)
            let entry = try #require(hub.requests.first)
            #expect(entry.method == "GET" && entry.path == "/acme/tiny/resolve/main/README.md" && entry.headers["host"] != nil)
            #expect(entry.headers["user-agent"]?.hasPrefix("curl/") == true)
            hub.clearLog()
            #expect(hub.requests.isEmpty)
            _ = try await curl("-I", url)
            #expect(hub.requests.first?.id == 4)
            await #expect(throws: FakeHubError.self) {
                try await hub.waitForRequests(timeout: .milliseconds(50)) { $0.path == "/never" }
            }
        }
    }

    @Test func stopReleasesAStalledResponse() async throws {
        let hub = try await FakeHub.start(cdn: false)
        try hub.commit(tiny, files: ["a.bin": .pattern(seed: 1, size: 100_000)])
        hub.addFault(.init(match: .file("a.bin"), action: .stallAfter(bytes: 10)))
        let download = Task { try await curl("--max-time", "20", "\(hub.endpoint)/acme/tiny/resolve/main/a.bin") }
        try await hub.waitForRequests { $0.filePath == "a.bin" && $0.bytesSent == 10 }
        await hub.stop()
        let r = try await download.value
        #expect(r.exitCode == 18 && r.body.count == 10, "curl: \(r.stderr)")
        // The port is closed now.
        #expect(try await curl("--max-time", "5", "\(hub.endpoint)/api/models/acme/tiny").exitCode != 0)
    }

    @Test func withHubStopsOnError() async throws {
        struct Boom: Error {}
        let endpoint = Locked2<String>("")
        await #expect(throws: Boom.self) {
            try await FakeHub.withHub(cdn: false) { hub in
                endpoint.set(hub.endpoint)
                throw Boom()
            }
        }
        #expect(try await curl("--max-time", "5", "\(endpoint.get())/api/models/x").exitCode == 7)  // connection refused
    }

    @Test func executableServesTheDemoAndStopsOnSIGTERM() async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("hubmirror-fakehub").path
        let fallback = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("hubmirror-fakehub").path
        let path = [binary, fallback].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else {
            Issue.record("hubmirror-fakehub not built next to the tests (looked at \(binary), \(fallback))")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--demo", "--live-style"]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let exited = Task { try await runToExit(process) }
        defer { if process.isRunning { process.terminate() } }
        let reader = out.fileHandleForReading
        let firstLine = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            DispatchQueue.global().async {
                var line = [UInt8]()
                while true {
                    let byte = reader.readData(ofLength: 1)
                    if byte.isEmpty || byte.first == 0x0A { break }
                    line.append(byte[byte.startIndex])
                }
                continuation.resume(returning: String(decoding: line, as: UTF8.self))
            }
        }
        #expect(firstLine.hasPrefix("listening on http://127.0.0.1:"))
        let endpoint = String(firstLine.dropFirst("listening on ".count))
        let info = try await curl("\(endpoint)/api/models/acme/tiny-model/revision/v1.0")
        #expect(info.status == 200)
        let lfs = try await curl("-I", "\(endpoint)/acme/tiny-model/resolve/main/model.safetensors")
        #expect(lfs.status == 302 && lfs.header("location")?.hasPrefix("http://127.0.0.2:") == true)
        let pr = try await curl("-I", "\(endpoint)/acme/tiny-model/resolve/refs%2Fpr%2F1/pr-file.txt")
        #expect(pr.status == 307)
        process.terminate()  // SIGTERM
        #expect(try await exited.value == 0)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.contains("acme/tiny-model commit1"))
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

final class Locked2<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
}

@Suite struct RawSocketTests {
    @Test func resetIsATCPResetAndTruncateIsACleanClose() async throws {
        try await withTinyHub(cdn: false) { hub, _ in
            hub.addFault(.init(match: .file("model.bin"), action: .resetAfter(bytes: 10)))
            hub.addFault(.init(match: .file("model.bin"), action: .truncateAfter(bytes: 10)))
            let request = "GET /acme/tiny/resolve/main/model.bin HTTP/1.1\r\nHost: x\r\n\r\n"

            let reset = try RawConnection(port: hub.port)
            try reset.send(request)
            #expect(await offPool { reset.receiveHead() }.contains("Content-Length: \(bigSize)"))
            try await hub.waitForRequests(phase: .completed) { $0.fault == .resetAfter(bytes: 10) }
            let cut = await offPool { reset.receive(upTo: 1000) }
            #expect(cut.bytes == (try bigContent.bytes(in: 0..<10)))
            #expect(cut.lastResult < 0 && cut.errno == ECONNRESET)

            let truncated = try RawConnection(port: hub.port)
            try truncated.send(request)
            #expect(await offPool { truncated.receiveHead() }.hasPrefix("HTTP/1.1 200"))
            let clean = await offPool { truncated.receive(upTo: 1000) }
            #expect(clean.bytes == (try bigContent.bytes(in: 0..<10)))
            #expect(clean.lastResult == 0)  // EOF, no error
        }
    }

    @Test func stopClosesIdleKeepAliveConnections() async throws {
        let hub = try await FakeHub.start(cdn: false)
        try hub.commit(tiny, files: ["a.txt": "abc"])
        let connection = try RawConnection(port: hub.port)
        try connection.send("GET /acme/tiny/resolve/main/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await offPool { connection.receiveHead() }.contains("Content-Length: 3"))
        #expect(await offPool { connection.receive(upTo: 3) }.bytes == Array("abc".utf8))
        // The connection stays open (keep-alive); stop must not wait for the client to close it.
        await hub.stop()
        #expect(await offPool { connection.receive(upTo: 1) }.lastResult == 0)
    }
}
