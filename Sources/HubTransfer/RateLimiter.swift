/// A token bucket: `rate` bytes per second, with a burst of a fraction of a second.
/// Pure: the caller passes the clock, so tests drive it without waiting.
public struct RateLimiter: Sendable {
    public let rate: Double
    public let burst: Double
    private(set) var tokens: Double
    private var last: Double

    public init(bytesPerSecond: Int64, now: Double, burstSeconds: Double = 0.1) {
        rate = Double(bytesPerSecond)
        burst = max(Double(bytesPerSecond) * burstSeconds, 64 * 1024)
        tokens = burst
        last = now
    }

    public mutating func refill(now: Double) {
        tokens = min(burst, tokens + (now - last) * rate)
        last = now
    }

    /// True when `bytes` may pass now (the bucket may go into debt by one write, which later refills repay).
    public mutating func tryConsume(_ bytes: Int, now: Double) -> Bool {
        refill(now: now)
        guard tokens > 0 else { return false }
        tokens -= Double(bytes)
        return true
    }

    /// Seconds until the bucket is positive again.
    public func waitTime() -> Double { tokens > 0 ? 0 : -tokens / rate }
}
