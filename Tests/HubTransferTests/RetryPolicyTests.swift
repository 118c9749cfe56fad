import Testing
import HubCore
import HubHTTP

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, baseDelay: 0.5, maxDelay: 4, maxRetryAfter: 60)

    @Test(arguments: [HubError.Kind.usage, .repoNotFound, .unauthorized, .gated, .unsafePath, .diskFull])
    func nonRetryableKindsAreNotRetried(_ kind: HubError.Kind) {
        #expect(policy.delay(afterAttempt: 1, error: HubError(kind, "x"), random: 0.5) == nil)
    }

    @Test func explicitlyNonRetryableIsNotRetried() {
        #expect(policy.delay(afterAttempt: 1, error: HubError(.http, "404", retryable: false), random: 0) == nil)
        #expect(policy.delay(afterAttempt: 1, error: HubError(.http, "404", retryable: false, retryAfter: 1), random: 0) == nil)
    }

    @Test func retryAfterIsHonoured() throws {
        let e = HubError(.rateLimited, "429", retryAfter: 7)
        #expect(policy.delay(afterAttempt: 1, error: e, random: 0) == 7)
        let jittered = try #require(policy.delay(afterAttempt: 3, error: e, random: 0.999))
        #expect(jittered >= 7 && jittered < 7.25, "at most a quarter second of jitter")
        #expect(policy.delay(afterAttempt: 1, error: HubError(.http, "503", retryAfter: 0), random: 0) == 0)
        #expect(policy.delay(afterAttempt: 1, error: HubError(.rateLimited, "429", retryAfter: 60), random: 0) == 60)
    }

    @Test func tooLongRetryAfterGivesUp() {
        #expect(policy.delay(afterAttempt: 1, error: HubError(.rateLimited, "429", retryAfter: 61), random: 0) == nil)
    }

    @Test func exponentialGrowthCapped() {
        let e = HubError(.network, "reset")
        let p = RetryPolicy(maxAttempts: 100, baseDelay: 0.5, maxDelay: 4)
        // random 0 gives half the cap, random -> 1 approaches the whole cap.
        let lows = (1...7).map { p.delay(afterAttempt: $0, error: e, random: 0) }
        #expect(lows == [0.25, 0.5, 1, 2, 2, 2, 2])
        let highs = (1...7).compactMap { p.delay(afterAttempt: $0, error: e, random: 0.999999) }
        for (h, cap) in zip(highs, [0.5, 1, 2, 4, 4, 4, 4]) {
            #expect(h < cap && h > cap * 0.99)
        }
        #expect(p.delay(afterAttempt: 60, error: e, random: 0.5) == 3, "no overflow for a late attempt")
    }

    @Test func maxAttempts() {
        let e = HubError(.network, "reset")
        #expect(policy.delay(afterAttempt: 4, error: e, random: 0) != nil)
        #expect(policy.delay(afterAttempt: 5, error: e, random: 0) == nil)
        #expect(policy.delay(afterAttempt: 6, error: e, random: 0) == nil)
        #expect(RetryPolicy(maxAttempts: 1).delay(afterAttempt: 1, error: e, random: 0) == nil, "one attempt means no retry")
        #expect(policy.delay(afterAttempt: 5, error: HubError(.rateLimited, "429", retryAfter: 1), random: 0) == nil)
    }

    @Test func defaults() {
        let d = RetryPolicy()
        #expect(d.maxAttempts == 8)
        #expect(d.baseDelay == 0.5)
        #expect(d.maxDelay == 30)
        #expect(d.maxRetryAfter == 300)
        #expect(RetryPolicy.standard.maxAttempts == 8)
    }

    @Test(arguments: [("120", 120.0), ("0", 0), (" 5 ", 5), ("1.5", 1.5)])
    func parseRetryAfterSeconds(_ text: String, _ expected: Double) {
        #expect(RetryPolicy.parseRetryAfter(text) == expected)
    }

    @Test(arguments: ["Wed, 21 Oct 2015 07:28:00 GMT", "", "-1", "soon", "nan"])
    func parseRetryAfterIgnoresOtherForms(_ text: String) {
        #expect(RetryPolicy.parseRetryAfter(text) == nil)
    }

    @Test func parseRetryAfterNil() {
        #expect(RetryPolicy.parseRetryAfter(nil) == nil)
    }

    @Test func statusClassification() throws {
        let url = "https://hub.example/x?token=secret"
        #expect(RetryPolicy.error(forStatus: 200, headers: HTTPHeaders(), url: url, what: "x") == nil)
        #expect(RetryPolicy.error(forStatus: 302, headers: HTTPHeaders(), url: url, what: "x") == nil)

        let limited = try #require(RetryPolicy.error(forStatus: 429, headers: HTTPHeaders([("retry-after", "9")]), url: url, what: "x"))
        #expect(limited.kind == .rateLimited)
        #expect(limited.isRetryable)
        #expect(limited.retryAfter == 9)
        #expect(!limited.message.contains("secret"), "query strings are redacted")

        let limitedNoHeader = try #require(RetryPolicy.error(forStatus: 429, headers: HTTPHeaders(), url: url, what: "x"))
        #expect(limitedNoHeader.retryAfter == 1)
        let limitedDate = try #require(RetryPolicy.error(forStatus: 429, headers: HTTPHeaders([("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")]), url: url, what: "x"))
        #expect(limitedDate.retryAfter == 1, "HTTP-date ignored, default wait")

        let unavailable = try #require(RetryPolicy.error(forStatus: 503, headers: HTTPHeaders([("Retry-After", "4")]), url: url, what: "x"))
        #expect(unavailable.kind == .http)
        #expect(unavailable.isRetryable)
        #expect(unavailable.retryAfter == 4)

        for status in [408, 500, 502, 504] {
            let e = try #require(RetryPolicy.error(forStatus: status, headers: HTTPHeaders([("Retry-After", "4")]), url: url, what: "x"))
            #expect(e.isRetryable, "\(status)")
            #expect(e.retryAfter == nil, "\(status): Retry-After only for 429/503")
        }
        for status in [400, 401, 403, 404, 416] {
            let e = try #require(RetryPolicy.error(forStatus: status, headers: HTTPHeaders(), url: url, what: "x"))
            #expect(!e.isRetryable, "\(status)")
            #expect(policy.delay(afterAttempt: 1, error: e, random: 0) == nil)
        }
    }
}
