import Foundation
public import HubCore

/// When and how long to wait before trying again: exponential backoff with full jitter for 5xx,
/// resets and truncation; `Retry-After` honoured for 429 and 503. A pure value: tests drive it.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// Longest `Retry-After` accepted before giving up instead of waiting.
    public var maxRetryAfter: Double

    public init(maxAttempts: Int = 8, baseDelay: Double = 0.5, maxDelay: Double = 30, maxRetryAfter: Double = 300) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// The default, with the base delay overridable through `HUBMIRROR_RETRY_BASE_MS` (used by tests).
    public static var standard: RetryPolicy {
        var p = RetryPolicy()
        if let ms = ProcessInfo.processInfo.environment["HUBMIRROR_RETRY_BASE_MS"].flatMap(Double.init) {
            p.baseDelay = ms / 1000
        }
        return p
    }

    /// Seconds to wait before attempt number `attempt + 1` (attempt counts from 1), or nil to give up.
    /// `random` is in [0, 1).
    public func delay(afterAttempt attempt: Int, error: HubError, random: Double = Double.random(in: 0..<1)) -> Double? {
        guard error.isRetryable, attempt < maxAttempts else { return nil }
        if let ra = error.retryAfter {
            return ra <= maxRetryAfter ? ra + random * 0.25 : nil
        }
        let cap = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        return cap / 2 + random * cap / 2
    }

    /// Parses `Retry-After` in its seconds form (the HTTP-date form is ignored, as the official client does).
    public static func parseRetryAfter(_ value: String?) -> Double? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), let s = Double(v), s >= 0 else { return nil }
        return s
    }

    /// Classifies an HTTP status as an error (nil for 2xx/3xx).
    public static func error(forStatus status: Int, headers: HTTPHeaders, url: String, what: String) -> HubError? {
        switch status {
        case 200..<400: return nil
        case 429:
            return HubError(.rateLimited, "\(what): rate limited (429) by \(Redact.url(url))",
                            retryable: true, retryAfter: parseRetryAfter(headers["Retry-After"]) ?? 1)
        case 408, 500, 502, 503, 504:
            return HubError(.http, "\(what): server error \(status) from \(Redact.url(url))",
                            retryable: true, retryAfter: status == 503 ? parseRetryAfter(headers["Retry-After"]) : nil)
        default:
            return HubError(.http, "\(what): unexpected HTTP \(status) from \(Redact.url(url))", retryable: false)
        }
    }
}
