import Foundation
import HubHTTP

/// What every request of a run shares while curl delivers bytes, on the engine thread: the rate
/// limit, the requests paused for it, and the byte counts.
final class EngineShared {
    var limiter: RateLimiter?
    var paused: [RequestRun] = []
    var bytesReceived: Int64 = 0
    var bytesBySource: [String: Int64] = [:]

    init(maxRate: Int64?, now: Double) {
        if let r = maxRate { limiter = RateLimiter(bytesPerSecond: r, now: now) }
    }

    /// False when the rate limit says wait: the request is paused and resumed later.
    func allowBytes(_ count: Int, for r: RequestRun) -> Bool {
        guard var l = limiter else { return true }
        let ok = l.tryConsume(count, now: TransferEngine.now())
        limiter = l
        if !ok { paused.append(r) }
        return ok
    }

    /// Resumes paused requests once the bucket has refilled.
    func unpauseIfAllowed() {
        guard var l = limiter, !paused.isEmpty else { return }
        l.refill(now: TransferEngine.now())
        limiter = l
        guard l.waitTime() == 0 else { return }
        let list = paused
        paused.removeAll()
        for r in list where r.stream?.isPaused == true { r.stream?.resume() }
    }

    /// Milliseconds until paused requests may go on (nil: none paused).
    var pauseWaitMs: Double? {
        guard let l = limiter, !paused.isEmpty else { return nil }
        return max(1, l.waitTime() * 1000)
    }
}
