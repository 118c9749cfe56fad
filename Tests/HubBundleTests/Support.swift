import Foundation
import HubCore
import HubDigest
import HubFakeHub
import HubStore
import Testing

/// A temp folder removed when the test ends.
final class TempDir: @unchecked Sendable {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "hubmirror-bundle-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

/// Path of a built executable (`HUBMIRROR_BIN_DIR`, else next to the test bundle).
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

struct Run: Sendable {
    var status: Int32
    var out: String
    var err: String
    var outBytes: Data
}

/// Starts a program with stdout/stderr piped (stdin piped when `stdin` is true).
func start(_ exe: String, _ args: [String], stdin: Bool = false, cwd: String? = nil) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    p.environment = ["HOME": NSTemporaryDirectory(), "PATH": "/usr/bin:/bin", "LC_ALL": "C"]
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    p.standardOutput = Pipe()
    p.standardError = Pipe()
    if stdin { p.standardInput = Pipe() }
    try p.run()
    return p
}

/// Waits for a started program on its own thread, collecting its output.
func finish(_ p: Process) async -> Run {
    await withCheckedContinuation { c in
        Thread {
            let out = (p.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
            let err = (p.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            c.resume(returning: Run(status: p.terminationStatus, out: String(decoding: out, as: UTF8.self), err: String(decoding: err, as: UTF8.self), outBytes: out))
        }.start()
    }
}

func run(_ exe: String, _ args: [String], cwd: String? = nil) async throws -> Run { await finish(try start(exe, args, cwd: cwd)) }
func hubmirror(_ args: [String]) async throws -> Run { try await run(builtExecutable("hubmirror"), args) }
func tool(_ name: String, _ args: [String], cwd: String? = nil) async throws -> Run { try await run("/usr/bin/" + name, args, cwd: cwd) }

/// Runs hubmirror and expects it to succeed.
@discardableResult
func ok(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> Run {
    let r = try await hubmirror(args)
    #expect(r.status == 0, "hubmirror \(args.joined(separator: " ")) exited \(r.status): \(r.err)", sourceLocation: sourceLocation)
    return r
}

/// Runs hubmirror and expects it to fail with `code`, its stderr naming `names`.
@discardableResult
func fails(_ args: [String], _ code: Int32, naming names: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws -> Run {
    let r = try await hubmirror(args)
    #expect(r.status == code, "hubmirror \(args.joined(separator: " ")) exited \(r.status), not \(code): \(r.err)", sourceLocation: sourceLocation)
    for n in names { #expect(r.err.contains(n), "stderr names \(n): \(r.err)", sourceLocation: sourceLocation) }
    return r
}

/// Every snapshot file of every repo of a cache: "folder/commit/path" → sha256 of its content.
func snapshotContents(_ cache: String) -> [String: String] {
    var out: [String: String] = [:]
    let store = CacheStore(root: cache)
    for repo in store.repos() {
        let snaps = store.repoDirectory(repo) + "/snapshots"
        guard let e = FileManager.default.enumerator(atPath: snaps) else { continue }
        while let rel = e.nextObject() as? String {
            let p = snaps + "/" + rel
            guard FS.fileSize(p) != nil, let d = FileManager.default.contents(atPath: p) else { continue }
            out[repo.cacheFolderName + "/" + rel] = Digest.hex(.sha256, of: [UInt8](d))
        }
    }
    return out
}

func refsOf(_ cache: String) -> [String: String] {
    let store = CacheStore(root: cache)
    var out: [String: String] = [:]
    for repo in store.repos() { for (k, v) in store.refs(repo) { out[repo.cacheFolderName + ":" + k] = v } }
    return out
}

/// A source store synced from the demo hub: acme/tiny-model at v1.0, main and refs/pr/1, and acme/tiny-data.
func demoStore(_ hub: FakeHub, at cache: String) async throws {
    for args in [["acme/tiny-model@v1.0"], ["acme/tiny-model"], ["acme/tiny-model@refs/pr/1"], ["acme/tiny-data", "--type", "dataset"]] {
        try await ok(["sync"] + args + ["--endpoint", hub.endpoint, "--cache-dir", cache])
    }
}

/// Flips one byte of a file at `offset`.
func flipByte(_ path: String, at offset: Int64) {
    let fd = open(path, O_RDWR)
    var b: UInt8 = 0
    _ = pread(fd, &b, 1, off_t(offset))
    b ^= 0xFF
    _ = pwrite(fd, &b, 1, off_t(offset))
    close(fd)
}

/// Offset of a member's data in a tar archive (GNU tar's block listing).
func dataOffset(of member: String, in archive: String) async throws -> Int64 {
    let r = try await tool("tar", ["-tvRf", archive])
    for line in r.out.split(separator: "\n") where line.hasSuffix(" " + member) {
        // "block N: -rw-r--r-- …"
        let n = line.split(separator: " ")[1].dropLast()
        return (Int64(n)! + 1) * 512
    }
    Issue.record("\(member) not in \(archive): \(r.out)")
    return 0
}
