import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HubCore
public import HubTransfer

/// What each peer holds of the contents a sync is fetching, kept current while the fetch runs: one
/// `have` query per peer at the start, then one every `interval` seconds (on a thread per peer) for the
/// contents it does not hold whole yet, so that chunks a peer is still downloading can be taken from it
/// as they arrive, and a peer that stops answering is known to be gone before its connections time out.
public final class PeerWatch: Sendable {
    public struct Timing: Sendable {
        /// Seconds between two `have` queries to a peer.
        public var interval: Double = 0.5
        /// A peer downloading a content is waited for only while it got more of any content within
        /// this many seconds.
        public var patience: Double = 5
        /// For this long after the start a peer that does not list a content yet is expected to start
        /// on it (a mirror started at about the same moment whose sync has not planned it yet).
        public var startGrace: Double = 2
        /// The same for the members of a fleet (`--advertise`): they are meant to run together, so a
        /// member that has not planned a content yet is waited for longer before its chunks are owned anew.
        public var fleetStartGrace: Double = 10
        /// Timeout of one `have` query; a peer that misses it counts as gone until it answers again.
        public var timeout: Double = 5
        public init() {}
    }

    struct Held {
        var whole = false
        var ranges = IntervalSet()
    }

    struct State {
        var alive: [Bool]
        /// Per peer: the contents it holds or is getting (absent: neither).
        var held: [[String: Held]]
        /// Per peer: when it last got more of any content (a peer downloading is judged on its whole run,
        /// not per content: a content it has queued behind others does not grow for a while).
        var progressAt: [Double]
        var stopped = false
        var firstErrors: [String?] = []
    }

    let clients: [PeerClient]
    let digests: [String]
    let timing: Timing
    let started: Double
    let state: Locked<State>
    let wake = Locked<[DispatchSemaphore]>([])
    let done = DispatchGroup()

    /// Asks every peer once (blocking); `reachable` tells which answered.
    public init(peers: [PeerEndpoint], digests: [String], timing: Timing = Timing()) {
        clients = peers.map { PeerClient(base: $0.url, token: $0.token) }
        self.digests = digests
        self.timing = timing
        started = Self.now()
        state = Locked(State(alive: Array(repeating: false, count: peers.count), held: Array(repeating: [:], count: peers.count),
                             progressAt: Array(repeating: started, count: peers.count)))
        let errors = clients.indices.map { poll($0, timeout: 30)?.message }
        state.withLock { $0.firstErrors = errors }
    }

    /// The error of each peer's first query, nil for those that answered.
    public var firstErrors: [String?] { state.withLock { $0.firstErrors } }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// True when peer `i` answered its last query.
    public func isReachable(_ i: Int) -> Bool { state.withLock { $0.alive[i] } }

    /// Queries peer `i` once for what it does not hold whole; returns the error if it did not answer.
    @discardableResult
    func poll(_ i: Int, timeout: Double) -> HubError? {
        let ask = state.withLock { s in digests.filter { s.held[i][$0]?.whole != true } }
        // A peer holding everything whole is still asked (for one digest) to know it is there.
        let query = ask.isEmpty ? Array(digests.prefix(1)) : ask
        do {
            let answer = try clients[i].have(query, timeout: timeout)
            let now = Self.now()
            state.withLock { s in
                s.alive[i] = true
                for d in query {
                    guard let h = answer.blobs[d] else {
                        s.held[i][d] = nil
                        continue
                    }
                    let before = s.held[i][d]
                    let after = Held(whole: h.whole, ranges: h.whole ? IntervalSet() : h.heldRanges)
                    if after.whole && before?.whole != true || after.ranges.totalBytes > (before?.ranges.totalBytes ?? 0) { s.progressAt[i] = now }
                    s.held[i][d] = after
                }
            }
            return nil
        } catch {
            state.withLock { $0.alive[i] = false }
            return error as? HubError ?? HubError(.network, "peer \(clients[i].base): \(error)")
        }
    }

    /// Starts querying every reachable peer in the background until `stop()`.
    public func start() {
        let sems = clients.indices.map { _ in DispatchSemaphore(value: 0) }
        wake.withLock { $0 = sems }
        for i in clients.indices {
            done.enter()
            let t = Thread { [self] in
                defer { done.leave() }
                while sems[i].wait(timeout: .now() + timing.interval) == .timedOut {
                    if state.withLock({ $0.stopped }) { return }
                    poll(i, timeout: timing.timeout)
                }
            }
            t.name = "hubmirror.peer-watch"
            t.start()
        }
    }

    /// Stops the background queries and waits for them to end.
    public func stop() {
        state.withLock { $0.stopped = true }
        for s in wake.withLock({ $0 }) { s.signal() }
        done.wait()
    }

    /// What peer `i` holds of `digest` now, as the transfer machine reads it.
    public func availability(peer i: Int, digest: String) -> SourceAvailability {
        let now = Self.now()
        return state.withLock { s in
            guard s.alive[i] else { return .none }
            guard let h = s.held[i][digest] else {
                // Not listed there (yet): a peer started at about the same moment may still plan it.
                return SourceAvailability(whole: false, expected: now - started < timing.startGrace)
            }
            if h.whole { return .whole }
            return SourceAvailability(whole: false, ranges: h.ranges, fetching: now - s.progressAt[i] < timing.patience)
        }
    }
}
