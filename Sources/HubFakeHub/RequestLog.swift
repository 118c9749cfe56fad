import HubCore

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
