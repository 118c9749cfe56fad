internal import HubCore

/// What a running pull-through fetch has on disk, for the requests streaming it to clients.
///
/// The fetcher reports; readers wait for the next change. Bytes `0..<prefix` are in the partial file
/// but unverified until `outcome` is `.verified`; a `generation` change means the fetcher threw
/// away what it had (a digest mismatch) and starts again from byte 0.
public final class PullProgress: Sendable {
    public enum Outcome: Sendable {
        case verified
        case failed(any Error)
    }

    public struct State: Sendable {
        /// The partial file the bytes are written to; nil until the fetch has opened it.
        public var partialPath: String?
        /// Bytes `0..<prefix` are written to the partial file.
        public var prefix: Int64 = 0
        /// Bumped whenever the bytes written so far are discarded.
        public var generation = 0
        /// Nil while the fetch runs.
        public var outcome: Outcome?
        /// Bumped on every change, so a reader can wait for the next one.
        var version = 0
    }

    private struct Inner {
        var state = State()
        var waiters: [CheckedContinuation<State, Never>] = []
    }

    private let inner = Locked(Inner())

    public init() {}

    public var state: State { inner.withLock { $0.state } }

    /// The fetch writes the file's bytes to `partialPath`.
    public func started(partialPath: String) { update { $0.partialPath = partialPath } }

    /// Bytes `0..<bytes` are now written.
    public func advanced(to bytes: Int64) { update { $0.prefix = bytes } }

    /// Everything written so far is being discarded; the fetch starts again from byte 0.
    public func restarted() {
        update {
            $0.prefix = 0
            $0.generation += 1
        }
    }

    /// The fetch ended: nil when the file is verified and in the store.
    func finish(_ error: (any Error)?) {
        update { $0.outcome = error.map { .failed($0) } ?? .verified }
    }

    /// The state once it is newer than `version` (at once when it already is).
    func next(after version: Int) async -> State {
        await withCheckedContinuation { (c: CheckedContinuation<State, Never>) in
            let now: State? = inner.withLock { i in
                if i.state.version > version || i.state.outcome != nil { return i.state }
                i.waiters.append(c)
                return nil
            }
            if let now { c.resume(returning: now) }
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let (state, waiters) = inner.withLock { i -> (State, [CheckedContinuation<State, Never>]) in
            change(&i.state)
            i.state.version += 1
            let w = i.waiters
            i.waiters = []
            return (i.state, w)
        }
        for w in waiters { w.resume(returning: state) }
    }
}
