import Foundation
import HubCore
import HubDigest
import HubFakeHub
import HubHTTP
import HubStore
import HubSync
import HubTransfer
import Testing

/// A temp folder removed when the test ends.
final class TempDir: @unchecked Sendable {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "hubmirror-it-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Collects transfer events from the engine thread.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [TransferEvent] = []
    func add(_ e: TransferEvent) { lock.withLock { events.append(e) } }
    var all: [TransferEvent] { lock.withLock { events } }
    var corruptions: Int { all.filter { if case .corrupted = $0 { return true } else { return false } }.count }
    var retries: [String] { all.compactMap { if case .retrying(_, let m, _) = $0 { return m } else { return nil } } }
}

/// Fast retries for tests: the policy's shape is unchanged, only its base delay.
func testTransferOptions(_ change: (inout TransferOptions) -> Void = { _ in }) -> TransferOptions {
    var o = TransferOptions()
    o.retry.baseDelay = 0.01
    o.retry.maxDelay = 0.05
    o.stallTimeout = 2
    change(&o)
    return o
}

/// Runs a blocking sync on its own thread so the cooperative pool (and the fake hub) keep running.
func runSync(_ request: SyncRequest, events: EventLog = EventLog(), dryRun: Bool = false) async throws -> (SyncResult, Plan) {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<(SyncResult, Plan), any Error>) in
        let t = Thread {
            do {
                c.resume(returning: try Syncer(request: request).sync(dryRun: dryRun) { events.add($0) })
            } catch {
                c.resume(throwing: error)
            }
        }
        t.stackSize = 4 << 20
        t.start()
    }
}

func runPlan(_ request: SyncRequest, from: String? = nil) async throws -> Plan {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<Plan, any Error>) in
        Thread {
            do { c.resume(returning: try Syncer(request: request).plan(from: from).plan) } catch { c.resume(throwing: error) }
        }.start()
    }
}

func sha256(ofFile path: String) -> String? {
    guard let d = FileManager.default.contents(atPath: path) else { return nil }
    return Digest.hex(.sha256, of: [UInt8](d))
}

/// Checks that every file of the hub's commit is in the cache snapshot with the right bytes.
func expectSnapshotMatches(_ hub: FakeHub, _ repo: RepoRef, commit: String, cache: String, paths: [String]? = nil,
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
    let store = CacheStore(root: cache)
    let files = hub.files(repo, commit)
    let wanted = paths ?? Array(files.keys)
    for p in wanted {
        let f = try #require(files[p], sourceLocation: sourceLocation)
        let link = store.snapshotDirectory(repo, commit: commit) + "/" + p
        #expect(sha256(ofFile: link) == f.sha256, "content of \(p)", sourceLocation: sourceLocation)
        let target = FS.readLink(link) ?? ""
        #expect(target.hasPrefix("../"), "relative symlink for \(p): \(target)", sourceLocation: sourceLocation)
    }
}

func hubError(_ body: () async throws -> Void) async -> HubError? {
    do {
        try await body()
        return nil
    } catch let e as HubError {
        return e
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// Path of a built executable next to the test bundle (`.build/debug/<name>`).
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

/// Starts the built `hubmirror` with `args`, stdout and stderr piped, fast retries, no user environment.
func startHubmirror(_ args: [String]) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: builtExecutable("hubmirror"))
    p.arguments = args
    p.environment = ["HOME": NSTemporaryDirectory(), "HUBMIRROR_RETRY_BASE_MS": "10", "PATH": "/usr/bin:/bin"]
    p.standardOutput = Pipe()
    p.standardError = Pipe()
    try p.run()
    return p
}

/// Runs the built `hubmirror` to completion on its own thread: exit status, stdout, stderr.
func runHubmirror(_ args: [String]) async throws -> (Int32, String, String) {
    let p = try startHubmirror(args)
    return await withCheckedContinuation { c in
        Thread {
            let out = (p.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
            let err = (p.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            c.resume(returning: (p.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self)))
        }.start()
    }
}
