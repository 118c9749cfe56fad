import Foundation
import HubCore
import HubDigest
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

    // MARK: Addresses

    /// `http://127.0.0.1:PORT`
    public var endpoint: String { state.withLock { "http://\($0.hubHost):\($0.hubPort)" } }
    public var port: Int { state.withLock { $0.hubPort } }
    /// `http://127.0.0.2:PORT`, nil when started without a CDN.
    public var cdnEndpoint: String? {
        state.withLock { s in s.cdnPort.map { "http://\(s.cdnHost):\($0)" } }
    }

    // MARK: Settings

    /// Tokens accepted in `Authorization: Bearer <token>` for private and gated repos.
    public var validTokens: Set<String> {
        get { state.withLock { $0.validTokens } }
        set { state.withLock { $0.validTokens = newValue } }
    }

    /// When true, a request whose bearer token is not valid gets 401 `Invalid credentials in
    /// Authorization header` even for public repos (as huggingface.co does). Default false.
    public var rejectInvalidTokens: Bool {
        get { state.withLock { $0.rejectInvalidTokens } }
        set { state.withLock { $0.rejectInvalidTokens = newValue } }
    }

    /// Entries per tree/commits page (default 1000, as HF).
    public var pageSize: Int {
        get { state.withLock { $0.pageSize } }
        set { state.withLock { $0.pageSize = max(1, newValue) } }
    }

    /// Mimic huggingface.co: regular files 307 to a relative `/api/resolve-cache/...`, LFS files 302 to the
    /// CDN server with Xet headers. Default false: `/resolve` answers 200 with the bytes.
    public var liveHubStyle: Bool {
        get { state.withLock { $0.liveHubStyle } }
        set { state.withLock { $0.liveHubStyle = newValue } }
    }

    /// When set, LFS resolves 302 to `{cdnBase}/{type}s/{repo}/{path}` (e.g. an nginx over the same files).
    public var cdnBase: String? {
        get { state.withLock { $0.cdnBase } }
        set { state.withLock { $0.cdnBase = newValue.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } } }
    }

    /// Answer every ranged request with 200 and the whole body.
    public var ignoreRangeAlways: Bool {
        get { state.withLock { $0.ignoreRangeAlways } }
        set { state.withLock { $0.ignoreRangeAlways = newValue } }
    }

    /// Lifetime in seconds of signed CDN URLs (default 3600; zero or less makes them expire at once).
    public var signedURLLifetime: Int {
        get { state.withLock { $0.signedURLLifetime } }
        set { state.withLock { $0.signedURLLifetime = newValue } }
    }

    // MARK: Repos and commits

    public static func model(_ id: String) -> RepoRef { repo(.model, id) }
    public static func dataset(_ id: String) -> RepoRef { repo(.dataset, id) }
    public static func space(_ id: String) -> RepoRef { repo(.space, id) }
    public static func repo(_ type: RepoType, _ id: String) -> RepoRef {
        do { return RepoRef(type: type, id: try RepoID(id)) } catch { preconditionFailure("\(error)") }
    }

    /// Creates a repo (or updates its flags). `gated` repos need a valid token like private ones but
    /// answer `GatedRepo` (403) instead of `RepoNotFound`.
    public func createRepo(_ repo: RepoRef, private isPrivate: Bool = false, gated: Bool = false) {
        state.withLock { s in
            if s.repos[repo] == nil {
                s.sequence += 1
                s.repos[repo] = RepoState(isPrivate: isPrivate, gated: gated, createdSequence: s.sequence)
            } else {
                s.repos[repo]!.isPrivate = isPrivate
                s.repos[repo]!.gated = gated
            }
        }
    }

    /// Removes a repo entirely.
    public func deleteRepo(_ repo: RepoRef) { state.withLock { _ = $0.repos.removeValue(forKey: repo) } }

    /// Creates a commit on top of `branch` (an empty tree when the branch does not exist yet), moves the
    /// branch to it and returns its 40-hex sha. Creates the repo (public) when missing. Contents are hashed
    /// here (files are read once).
    @discardableResult
    public func commit(
        _ repo: RepoRef, branch: String = "main", files: [String: FileSpec] = [:], deleting: [String] = [],
        message: String = "update"
    ) throws -> String {
        let stored = try Self.store(files)
        return state.withLock { s in
            let parent = s.repos[repo]?.branches[branch]
            let sha = Self.addCommit(&s, repo, parent: parent, files: stored, deleting: deleting, message: message)
            s.repos[repo]!.branches[branch] = sha
            return sha
        }
    }

    /// Creates a commit on top of `parent` (nil: empty tree) without moving any ref.
    @discardableResult
    public func commit(
        _ repo: RepoRef, parent: String?, files: [String: FileSpec] = [:], deleting: [String] = [],
        message: String = "update"
    ) throws -> String {
        let stored = try Self.store(files)
        return try state.withLock { s in
            if let parent, s.repos[repo]?.commits[parent] == nil { throw FakeHubError("unknown parent commit \(parent)") }
            return Self.addCommit(&s, repo, parent: parent, files: stored, deleting: deleting, message: message)
        }
    }

    private static func store(_ files: [String: FileSpec]) throws -> [StoredFile] {
        try files.map { path, spec in
            guard !path.isEmpty, !path.hasPrefix("/"), !path.hasSuffix("/") else { throw FakeHubError("bad file path '\(path)'") }
            return try StoredFile(path: path, content: spec.content, lfs: spec.lfs)
        }
    }

    private static func addCommit(
        _ s: inout State, _ repo: RepoRef, parent: String?, files: [StoredFile], deleting: [String], message: String
    ) -> String {
        if s.repos[repo] == nil {
            s.sequence += 1
            s.repos[repo] = RepoState(isPrivate: false, gated: false, createdSequence: s.sequence)
        }
        var tree = parent.flatMap { s.repos[repo]!.commits[$0]?.files } ?? [:]
        for path in deleting {
            tree[path] = nil
            // Deleting a directory removes everything below it.
            for key in tree.keys where key.hasPrefix(path + "/") { tree[key] = nil }
        }
        for f in files { tree[f.path] = f }
        s.sequence += 1
        let description = tree.values.sorted { $0.path < $1.path }.map { "\($0.path)\u{0}\($0.etag)\u{0}\($0.lfs)" }
            .joined(separator: "\n")
        let sha = Digest.hex(.sha1, of: Array("commit \(repo)\n\(parent ?? "-")\n\(s.sequence)\n\(message)\n\(description)".utf8))
        s.repos[repo]!.commits[sha] = Commit(sha: sha, parent: parent, message: message, files: tree, sequence: s.sequence)
        for f in tree.values where f.lfs {
            s.blobs[f.sha256] = f
            s.blobOwners[f.sha256, default: []].insert(BlobOwner(repo: repo, path: f.path))
        }
        return sha
    }

    /// Points branch `name` (may contain `/`, e.g. `feature/x`) at `commit`.
    public func setBranch(_ repo: RepoRef, _ name: String, _ commit: String) throws {
        try setRef(repo, "refs/heads/" + name, commit)
    }

    /// Points tag `name` at `commit`.
    public func tag(_ repo: RepoRef, _ name: String, _ commit: String) throws {
        try setRef(repo, "refs/tags/" + name, commit)
    }

    /// Points a ref at `commit`: `refs/heads/X` (branch), `refs/tags/X`, `refs/pr/N`, `refs/convert/X`;
    /// any other name is a branch.
    public func setRef(_ repo: RepoRef, _ ref: String, _ commit: String) throws {
        try state.withLock { s in
            guard var r = s.repos[repo] else { throw FakeHubError("unknown repo \(repo)") }
            guard r.commits[commit] != nil else { throw FakeHubError("unknown commit \(commit) in \(repo)") }
            if ref.hasPrefix("refs/heads/") {
                r.branches[String(ref.dropFirst(11))] = commit
            } else if ref.hasPrefix("refs/tags/") {
                r.tags[String(ref.dropFirst(10))] = commit
            } else if ref.hasPrefix("refs/") {
                r.otherRefs[ref] = commit
            } else {
                r.branches[ref] = commit
            }
            s.repos[repo] = r
        }
    }

    /// Removes a ref (same naming as `setRef`).
    public func deleteRef(_ repo: RepoRef, _ ref: String) {
        state.withLock { s in
            if ref.hasPrefix("refs/heads/") {
                s.repos[repo]?.branches[String(ref.dropFirst(11))] = nil
            } else if ref.hasPrefix("refs/tags/") {
                s.repos[repo]?.tags[String(ref.dropFirst(10))] = nil
            } else if ref.hasPrefix("refs/") {
                s.repos[repo]?.otherRefs[ref] = nil
            } else {
                s.repos[repo]?.branches[ref] = nil
            }
        }
    }

    /// The commit a revision (branch, tag, full ref name or sha) resolves to.
    public func resolve(_ repo: RepoRef, _ revision: String = "main") -> String? {
        state.withLock { $0.repos[repo]?.resolve(revision)?.sha }
    }

    /// The commit a revision resolves to, with its message, parent and tree.
    public func commitInfo(_ repo: RepoRef, _ revision: String) -> Commit? {
        state.withLock { $0.repos[repo]?.resolve(revision) }
    }

    /// The tree of a commit (or any revision), by path; empty when unknown.
    public func files(_ repo: RepoRef, _ revision: String) -> [String: StoredFile] {
        state.withLock { $0.repos[repo]?.resolve(revision)?.files ?? [:] }
    }

    /// The manifest a correct client derives for `revision`.
    public func manifest(_ repo: RepoRef, _ revision: String = "main") -> Manifest? {
        state.withLock { s in
            guard let c = s.repos[repo]?.resolve(revision) else { return nil }
            return Manifest(repo: repo, commit: c.sha, entries: c.files.values.sorted { $0.path < $1.path }.map(\.manifestEntry))
        }
    }

    // MARK: Faults

    /// Adds a fault rule; rules are tried in the order added.
    @discardableResult
    public func addFault(_ rule: FaultRule) -> FaultID {
        state.withLock { s in
            let id = FaultID(raw: s.nextFaultID)
            s.nextFaultID += 1
            s.faults.append(ActiveFault(id: id, rule: rule, remaining: rule.times))
            return id
        }
    }

    /// How many times a rule has fired so far.
    public func firedCount(_ id: FaultID) -> Int { state.withLock { s in s.faults.first { $0.id == id }?.fired ?? 0 } }

    /// Removes one rule (spent rules are kept until removed, so `firedCount` keeps answering).
    public func removeFault(_ id: FaultID) { state.withLock { $0.faults.removeAll { $0.id == id } } }

    public func removeAllFaults() { state.withLock { $0.faults = [] } }

    /// Takes one shot of the first matching rule.
    func takeFault(_ probe: FaultProbe) -> FaultRule.Action? {
        state.withLock { s in
            for i in s.faults.indices where s.faults[i].remaining > 0 && probe.matches(s.faults[i].rule) {
                s.faults[i].remaining -= 1
                s.faults[i].fired += 1
                return s.faults[i].rule.action
            }
            return nil
        }
    }

    // MARK: Request log

    /// Every request received so far, in arrival order.
    public var requests: [LoggedRequest] { state.withLock { $0.log } }

    public func clearLog() { state.withLock { $0.log = [] } }

    /// Body bytes sent for a file path (resolve, resolve-cache and CDN requests), summed over the log.
    public func bytesSent(path: String) -> Int64 {
        state.withLock { $0.log.filter { $0.filePath == path }.reduce(0) { $0 + $1.bytesSent } }
    }

    /// Body bytes sent for every request in the log.
    public var totalBytesSent: Int64 { state.withLock { $0.log.reduce(0) { $0 + $1.bytesSent } } }

    /// Called (outside the lock) when a request arrives.
    public var onRequest: (@Sendable (LoggedRequest) -> Void)? {
        get { state.withLock { $0.onRequest } }
        set { state.withLock { $0.onRequest = newValue } }
    }

    /// Called (outside the lock) when a response is finished.
    public var onComplete: (@Sendable (LoggedRequest) -> Void)? {
        get { state.withLock { $0.onComplete } }
        set { state.withLock { $0.onComplete = newValue } }
    }

    /// Waits until `count` logged requests match `predicate` (already logged ones count), having arrived or
    /// completed, and returns the first `count` of them. The predicate is re-checked whenever an entry
    /// changes (e.g. `bytesSent` grows), so `{ $0.bytesSent >= n }` works. Throws after `timeout` (a safety
    /// net, not a sleep) or when the hub stops.
    @discardableResult
    public func waitForRequests(
        _ count: Int = 1, phase: RequestPhase = .arrived, timeout: Duration = .seconds(30),
        where predicate: @escaping @Sendable (LoggedRequest) -> Bool
    ) async throws -> [LoggedRequest] {
        let waiterID = state.withLock { s -> Int in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled, let self else { return }
            let waiter = self.state.withLock { s -> RequestWaiter? in
                guard let i = s.waiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                return s.waiters.remove(at: i)
            }
            waiter?.continuation.resume(throwing: FakeHubError("timed out after \(timeout) waiting for \(count) request(s); log:\n" + self.requests.map(\.description).joined(separator: "\n")))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let waiter = RequestWaiter(id: waiterID, count: count, phase: phase, predicate: predicate, continuation: continuation)
            let result = state.withLock { s -> Result<[LoggedRequest], any Error>? in
                if s.stopped { return .failure(FakeHubError("fake hub stopped")) }
                if let hits = waiter.satisfied(by: s.log) { return .success(hits) }
                s.waiters.append(waiter)
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }

    /// Appends a request to the log and returns its id.
    func logArrival(_ make: (Int) -> LoggedRequest) -> Int {
        let (entry, callback, ready) = state.withLock { s -> (LoggedRequest, (@Sendable (LoggedRequest) -> Void)?, [(RequestWaiter, [LoggedRequest])]) in
            s.nextRequestID += 1
            let entry = make(s.nextRequestID)
            s.log.append(entry)
            return (entry, s.onRequest, Self.readyWaiters(&s))
        }
        callback?(entry)
        for (w, hits) in ready { w.continuation.resume(returning: hits) }
        return entry.id
    }

    /// Updates a logged request; `complete` marks it finished and notifies.
    func updateLog(_ id: Int, complete: Bool = false, _ change: (inout LoggedRequest) -> Void) {
        let (entry, callback, ready) = state.withLock { s -> (LoggedRequest?, (@Sendable (LoggedRequest) -> Void)?, [(RequestWaiter, [LoggedRequest])]) in
            guard let i = s.log.lastIndex(where: { $0.id == id }) else { return (nil, nil, []) }
            change(&s.log[i])
            if complete { s.log[i].completed = true }
            return (s.log[i], complete ? s.onComplete : nil, s.waiters.isEmpty ? [] : Self.readyWaiters(&s))
        }
        if let entry { callback?(entry) }
        for (w, hits) in ready { w.continuation.resume(returning: hits) }
    }

    private static func readyWaiters(_ s: inout State) -> [(RequestWaiter, [LoggedRequest])] {
        var ready: [(RequestWaiter, [LoggedRequest])] = []
        s.waiters.removeAll { w in
            guard let hits = w.satisfied(by: s.log) else { return false }
            ready.append((w, hits))
            return true
        }
        return ready
    }
}
