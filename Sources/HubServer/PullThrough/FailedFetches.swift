internal import HubCore

/// Content whose pull-through fetch failed verification after every corruption retry the engine
/// allows. For `cooldown` after that, every request for the content gets that failure at once
/// instead of starting another fetch: an upstream that keeps sending bad bytes then costs at most
/// one failed fetch (`corruptionRetries + 1` downloads of the file) per cool-down, however often
/// clients retry, and every client sees the same `502`.
struct FailedFetches {
    let cooldown: Duration
    private var failures: [String: (error: HubError, at: ContinuousClock.Instant)] = [:]

    init(cooldown: Duration) { self.cooldown = cooldown }

    /// True for the failures that start a cool-down: the content itself was bad on every try.
    /// Network errors and the like are left to the engine's retries and the client's `503` retries.
    static func startsCooldown(_ error: any Error) -> Bool {
        (error as? HubError)?.kind == .verification
    }

    mutating func record(_ key: String, _ error: HubError, at now: ContinuousClock.Instant) {
        guard cooldown > .zero else { return }
        failures = failures.filter { now - $0.value.at < cooldown }
        failures[key] = (error, now)
    }

    /// The error to answer for `key` while its cool-down runs, nil when a fetch may start.
    func failure(_ key: String, at now: ContinuousClock.Instant) -> HubError? {
        guard let f = failures[key] else { return nil }
        let left = cooldown - (now - f.at)
        guard left > .zero else { return nil }
        let seconds = max(1, Int((Double(left.components.seconds) + Double(left.components.attoseconds) * 1e-18).rounded(.up)))
        return HubError(.verification,
                        "its content failed verification on every fetch from upstream; not fetched again for \(seconds) s (\(f.error.message))",
                        retryable: false, retryAfter: Double(seconds))
    }
}
