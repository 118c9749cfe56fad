import Foundation
import HubCore
import HubFakeHub
import HubStore
import Testing

/// The exit codes table of Docs/exit-codes.md, read from the repository.
enum ExitCodeDoc {
    /// Code → kind name, from the table rows `| 10 | `repoNotFound` | … |`.
    static let table: [Int32: String] = {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Docs/exit-codes.md")
        let text = (try? String(contentsOf: docs, encoding: .utf8)) ?? ""
        var rows: [Int32: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("|") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, let code = Int32(cells[0]) else { continue }
            rows[code] = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
        }
        return rows
    }()
}

/// Every exit code any command returns is documented (issue #8): each kind of `HubError` has its row,
/// and each command's failure paths, run through the built binary, exit with a documented code.
@Suite struct ExitCodeTests {
    typealias Rule = FakeHub.FaultRule
    static let repo = FakeHub.model("acme/codes")

    @Test func everyErrorKindHasItsDocumentedRow() {
        #expect(ExitCodeDoc.table[0] != nil, "success is documented")
        for kind in HubError.Kind.allCases {
            #expect(ExitCodeDoc.table[kind.exitCode] == kind.rawValue, "exit \(kind.exitCode) documented as `\(kind.rawValue)`")
        }
        let kinds = Set(HubError.Kind.allCases.map(\.exitCode))
        for (code, name) in ExitCodeDoc.table where code != 0 {
            #expect(kinds.contains(code), "documented code \(code) (\(name)) is returned by some kind")
        }
    }

    /// Runs the binary and checks the exit code is the expected one and documented.
    func expectExit(_ args: [String], _ expected: Int32, stderrContains: String? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let (code, _, err) = try await runHubmirror(args)
        #expect(code == expected, "\(args.joined(separator: " ")) exited \(code); stderr: \(err)", sourceLocation: sourceLocation)
        #expect(ExitCodeDoc.table[code] != nil, "exit \(code) of \(args.joined(separator: " ")) is documented", sourceLocation: sourceLocation)
        if let s = stderrContains {
            #expect(err.contains(s), "stderr of \(args.joined(separator: " ")) names \(s): \(err)", sourceLocation: sourceLocation)
        }
    }

    @Test func commandLineMistakesExitWithUsage() async throws {
        let tmp = TempDir()
        let cache = ["--cache-dir", tmp.path]
        try await expectExit(["sync", "a/b/c"] + cache, 64, stderrContains: "a/b/c")
        try await expectExit(["sync", "acme/x", "--no-such-option"] + cache, 64)
        try await expectExit(["sync", "acme/x", "--type", "kernel"] + cache, 64, stderrContains: "--type")
        try await expectExit(["sync", "acme/x", "--revision", "../x"] + cache, 64)
        try await expectExit(["diff", "acme/x", "--endpoint", "ftp://x"] + cache, 64, stderrContains: "--endpoint")
        try await expectExit(["verify", "--cache-dir", tmp.path + "/missing"], 64, stderrContains: "missing")
        try await expectExit(["gc", "--cache-dir", tmp.path + "/missing"], 64)
        try await expectExit(["mirror", "--config", tmp.path + "/missing.toml"], 3, stderrContains: "missing.toml")
        try await expectExit(["no-such-command"], 64)
        // Peer options: each names itself.
        try await expectExit(["sync", "acme/x", "--cache-dir", tmp.path, "--advertise", "http://127.0.0.1:1"], 64, stderrContains: "--advertise needs")
        try await expectExit(["sync", "acme/x", "--cache-dir", tmp.path, "--peer", "http://127.0.0.1:1", "--advertise", "ftp://x"], 64, stderrContains: "--advertise")
        try await expectExit(["sync", "acme/x", "--cache-dir", tmp.path, "--peer", "mirror-b"], 64, stderrContains: "--peer")
        try await expectExit(["sync", "acme/x", "--cache-dir", tmp.path, "--peer-token", "t"], 64, stderrContains: "--peer-token needs")
    }

    @Test("Out-of-range numbers are named as such, not as a missing value", arguments: [
        (["--jobs", "-1"], "--jobs"), (["--jobs", "0"], "--jobs"), (["--connections", "-3"], "--connections"),
        (["--stall-timeout", "-5"], "--stall-timeout"), (["--chunk-size", "-1"], "--chunk-size"), (["--max-rate", "-1"], "--max-rate"),
    ])
    func negativeTransferValuesAreOutOfRange(_ option: [String], _ name: String) async throws {
        let tmp = TempDir()
        let (code, _, err) = try await runHubmirror(["sync", "acme/x", "--cache-dir", tmp.path] + option)
        #expect(code == 64)
        #expect(err.contains(name), "names \(name): \(err)")
        #expect(!err.contains("Missing value"), "not reported as missing: \(err)")
    }

    @Test func syncFailuresExitWithTheirDocumentedCodes() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            try hub.commit(Self.repo, files: ["README.md": "# codes\n", "big.bin": .pattern(seed: 3, size: 2 << 20, lfs: true)])
            let gated = FakeHub.model("acme/gated-codes")
            hub.createRepo(gated, gated: true)
            try hub.commit(gated, files: ["x": "x"])
            func sync(_ repo: String, _ extra: [String] = []) -> [String] {
                ["sync", repo, "--endpoint", hub.endpoint, "--cache-dir", tmp.path + "/c-\(UUID().uuidString)"] + extra
            }
            try await expectExit(sync("acme/nope"), 10, stderrContains: "acme/nope")
            try await expectExit(sync("acme/codes", ["--revision", "no-such-branch"]), 11, stderrContains: "no-such-branch")
            try await expectExit(sync("acme/gated-codes"), 13, stderrContains: "acme/gated-codes")

            var id = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 1000, action: .status(503)))
            try await expectExit(sync("acme/codes", ["--stall-timeout", "2"]), 22, stderrContains: "big.bin")
            hub.removeFault(id)
            id = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 1000, action: .tooManyRequests(retryAfter: 0)))
            try await expectExit(sync("acme/codes"), 20, stderrContains: "big.bin")
            hub.removeFault(id)
            id = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 1000, action: .redirect(location: "file:///etc/passwd")))
            try await expectExit(sync("acme/codes"), 23, stderrContains: "big.bin")
            hub.removeFault(id)
            id = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 1000, action: .corruptByte(offset: 5)))
            try await expectExit(sync("acme/codes"), 30, stderrContains: "big.bin")
            hub.removeFault(id)
            id = hub.addFault(Rule(.hub, match: .file("big.bin"), times: 1000, action: .changeContent(.pattern(seed: 4, size: 2 << 20))))
            try await expectExit(sync("acme/codes"), 31, stderrContains: "big.bin")
            hub.removeFault(id)

            let unsafe = FakeHub.model("acme/unsafe-codes")
            try hub.commit(unsafe, files: ["ok.txt": "ok\n", "../evil.txt": "evil\n"])
            try await expectExit(sync("acme/unsafe-codes"), 32, stderrContains: "evil.txt")
        }
    }

    @Test("Out-of-range numbers of the other commands", arguments: [
        (["gc", "--keep-unreferenced", "-1"], "--keep-unreferenced"), (["gc", "--grace", "-5"], "--grace"),
        (["verify", "--jobs", "-1"], "--jobs"), (["serve", "--port", "-1"], "--port"), (["serve", "--port", "70000"], "--port"),
    ])
    func negativeValuesOfOtherCommandsAreOutOfRange(_ args: [String], _ name: String) async throws {
        let tmp = TempDir()
        let (code, _, err) = try await runHubmirror(args + ["--cache-dir", tmp.path])
        #expect(code == 64)
        #expect(err.contains(name), "names \(name): \(err)")
        #expect(!err.contains("Missing value"), "not reported as missing: \(err)")
    }

    @Test func storeCommandsExitWithTheirDocumentedCodes() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let cache = tmp.path + "/cache"
            try hub.commit(Self.repo, files: ["README.md": "# codes\n", "w.bin": .pattern(seed: 5, size: 100_000, lfs: true)])
            try await expectExit(["sync", "acme/codes", "--endpoint", hub.endpoint, "--cache-dir", cache], 0)
            try await expectExit(["ls", "acme/not-here", "--cache-dir", cache], 10, stderrContains: "acme/not-here")
            try await expectExit(["verify", "acme/not-here", "--cache-dir", cache], 10, stderrContains: "acme/not-here")

            // Another process holds the repo's lock.
            let lock = try CacheStore(root: cache).target(Self.repo).lock()
            try await expectExit(["sync", "acme/codes", "--endpoint", hub.endpoint, "--cache-dir", cache], 50, stderrContains: "acme/codes")
            lock.unlock()

            // A damaged blob.
            let etag = try #require(hub.files(Self.repo, "main")["w.bin"]).sha256
            let blob = CacheStore(root: cache).blobPath(Self.repo, etag: etag)
            let fd = open(blob, O_WRONLY)
            var byte: UInt8 = 0xFF
            #expect(pwrite(fd, &byte, 1, 10) == 1)
            close(fd)
            try await expectExit(["verify", "--cache-dir", cache], 33, stderrContains: "--repair")

            // mirror: some repos fail, then all of them.
            let some = tmp.path + "/some.toml"
            try "cache_dir = \"\(tmp.path)/m\"\nendpoint = \"\(hub.endpoint)\"\n[[repo]]\nid = \"acme/codes\"\n[[repo]]\nid = \"acme/nope\"\n"
                .write(toFile: some, atomically: true, encoding: .utf8)
            try await expectExit(["mirror", "--config", some], 51)
            let all = tmp.path + "/all.toml"
            try "cache_dir = \"\(tmp.path)/m2\"\nendpoint = \"\(hub.endpoint)\"\n[[repo]]\nid = \"acme/nope\"\n"
                .write(toFile: all, atomically: true, encoding: .utf8)
            try await expectExit(["mirror", "--config", all], 52)
        }
    }

    @Test func anUnreachableEndpointIsANetworkError() async throws {
        let tmp = TempDir()
        // A port that was just free: nothing listens there.
        let port = try freeLoopbackPort()
        try await expectExit(["sync", "acme/x", "--endpoint", "http://127.0.0.1:\(port)", "--cache-dir", tmp.path], 21, stderrContains: "127.0.0.1")
    }
}

/// A loopback TCP port that nothing listens on right now.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw HubError(.store, "cannot bind a loopback port for the test") }
    return Int(UInt16(bigEndian: addr.sin_port))
}
