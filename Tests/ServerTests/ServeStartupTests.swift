import Foundation
import HubCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Path of a built executable: `$HUBMIRROR_BIN_DIR/<name>`, else next to the test bundle.
func builtExecutable(_ name: String) -> String {
    if let dir = ProcessInfo.processInfo.environment["HUBMIRROR_BIN_DIR"] { return dir + "/" + name }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = (exe as NSString).deletingLastPathComponent
    while !dir.isEmpty && dir != "/" {
        let candidate = dir + "/" + name
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = (dir as NSString).deletingLastPathComponent
    }
    return ".build/debug/" + name
}

/// Runs the built `hubmirror` to its end (killed after `timeout`, should it start serving after
/// all): exit status and stderr.
func runHubmirror(_ args: [String], timeout: Duration = .seconds(30)) async throws -> (status: Int32, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: builtExecutable("hubmirror"))
    p.arguments = args
    p.environment = ["HOME": NSTemporaryDirectory(), "PATH": "/usr/bin:/bin"]
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = FileHandle.nullDevice
    let err = Pipe()
    p.standardError = err
    try p.run()
    let watchdog = Task {
        try await Task.sleep(for: timeout)
        p.terminate()
    }
    defer { watchdog.cancel() }
    return await withCheckedContinuation { c in
        Thread {
            let text = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            c.resume(returning: (p.terminationStatus, String(decoding: text, as: UTF8.self)))
        }.start()
    }
}

/// A TCP socket listening on 127.0.0.1 with a free port, closed on deinit.
final class HeldPort {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && listen(fd, 1) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard fd >= 0, ok else { throw HubError(.store, "cannot hold a port on 127.0.0.1: errno \(errno)") }
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }
}

/// `hubmirror serve` start-up failures: one line naming what is wrong, a documented exit code.
@Suite("serve start-up errors", .timeLimit(.minutes(2)))
struct ServeStartupTests {
    let cache = try! TestCache()

    func serve(_ args: [String]) async throws -> (status: Int32, stderr: String) {
        try await runHubmirror(["serve", "--cache-dir", cache.root] + args)
    }

    @Test("A port in use exits 43 naming the address and port")
    func portInUse() async throws {
        let held = try HeldPort()
        let (status, stderr) = try await serve(["--host", "127.0.0.1", "--port", String(held.port)])
        #expect(status == HubError.Kind.listen.exitCode && status == 43, "\(stderr)")
        #expect(stderr.contains("127.0.0.1:\(held.port)") && stderr.contains("already in use"), "\(stderr)")
        #expect(!stderr.contains("errno") && !stderr.contains("bind(descriptor"), "no raw NIO error: \(stderr)")
        #expect(stderr.split(separator: "\n").count == 1, "one line: \(stderr)")
    }

    @Test("An address that is not this machine's exits 43 naming it")
    func notALocalAddress() async throws {
        // 192.0.2.0/24 is reserved for documentation (RFC 5737): never an address of this machine.
        let (status, stderr) = try await serve(["--host", "192.0.2.1", "--port", "0"])
        #expect(status == 43, "\(stderr)")
        #expect(stderr.contains("192.0.2.1:0") && stderr.contains("not an address of this machine"), "\(stderr)")
    }

    @Test("A host that is no address or resolvable name exits 64 naming --host and the port")
    func unknownHost() async throws {
        let (status, stderr) = try await serve(["--host", "999.1.1.1", "--port", "8123"])
        #expect(status == 64, "\(stderr)")
        #expect(stderr.contains("--host '999.1.1.1'") && stderr.contains("999.1.1.1:8123"), "\(stderr)")
        #expect(!stderr.contains("SocketAddressError"), "\(stderr)")
        #expect(stderr.split(separator: "\n").count == 1, "one line: \(stderr)")
    }

    @Test("Docs/serve.md lists every option serve --help prints")
    func docsListEveryOption() async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: builtExecutable("hubmirror"))
        p.arguments = ["serve", "--help"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let help = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let options = Set(help.split(separator: "\n").compactMap { line -> String? in
            let t = line.drop { $0 == " " }
            guard line.hasPrefix("  "), t.hasPrefix("--") || t.hasPrefix("-h") else { return nil }
            return String(t.prefix { $0 != " " && $0 != "," })
        })
        #expect(options.isSuperset(of: ["--cache-dir", "--jobs", "--connections", "--public-url", "-h"]), "\(options.sorted())")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("Docs/serve.md"), encoding: .utf8)
        let table = doc.split(separator: "\n").filter { $0.hasPrefix("| `-") }
        for o in options.sorted() {
            #expect(table.contains { $0.contains("`\(o)`") || $0.contains("`\(o) ") }, "Docs/serve.md's options table lacks \(o)")
        }
    }

    @Test("A bad --allow glob exits 64 at start, naming the option and the pattern")
    func badAllowGlob() async throws {
        let (status, stderr) = try await serve(["--port", "0", "--allow", "acme/*", "--allow", "["])
        #expect(status == 64, "\(stderr)")
        #expect(stderr.contains("--allow '['") && stderr.contains("no closing ']'"), "\(stderr)")
    }
}
