public import HubCore

extension FakeHub {
    /// One request the fake received, with what it answered.
    public struct LoggedRequest: Sendable, CustomStringConvertible {
        /// Arrival order, from 1 (across both servers).
        public let id: Int
        public let server: Server
        public let method: String
        /// Raw request target as sent: path + query, undecoded.
        public let path: String
        /// All request headers, names lowercased (`host` included); repeated headers joined with ", ".
        public let headers: [String: String]
        /// The repo the request was about, when known.
        public internal(set) var repo: RepoRef?
        /// The decoded file path for resolve, resolve-cache and CDN requests.
        public internal(set) var filePath: String?
        /// Response status (0 until decided).
        public internal(set) var status: Int = 0
        /// Body bytes actually handed to the socket (exact for faults that cut the body).
        public internal(set) var bytesSent: Int64 = 0
        /// True once the response is finished (completely, cut by a fault, or aborted by the client).
        public internal(set) var completed = false
        /// The fault action that fired on this request, if any.
        public internal(set) var fault: FaultRule.Action?

        public var range: String? { headers["range"] }
        public var authorization: String? { headers["authorization"] }

        public var description: String {
            "#\(id) \(server) \(method) \(path)\(range.map { " [\($0)]" } ?? "") -> \(status) (\(bytesSent) B)"
                + (fault.map { " fault: \($0)" } ?? "")
        }
    }

    /// Which moment of a request `waitForRequests` waits for.
    public enum RequestPhase: Sendable { case arrived, completed }
}

/// A task waiting for the N-th request matching a predicate.
struct RequestWaiter: Sendable {
    let id: Int
    let count: Int
    let phase: FakeHub.RequestPhase
    let predicate: @Sendable (FakeHub.LoggedRequest) -> Bool
    let continuation: CheckedContinuation<[FakeHub.LoggedRequest], any Error>

    func satisfied(by log: [FakeHub.LoggedRequest]) -> [FakeHub.LoggedRequest]? {
        let hits = log.filter { (phase == .arrived || $0.completed) && predicate($0) }
        return hits.count >= count ? Array(hits.prefix(count)) : nil
    }
}

extension FakeHub {
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
