import Testing
@testable import HubTransfer

@Suite struct RateLimiterTests {
    @Test func burstIsATenthOfASecondWithAFloor() {
        let fast = RateLimiter(bytesPerSecond: 10_000_000, now: 0)
        #expect(fast.rate == 10_000_000)
        #expect(fast.burst == 1_000_000)
        #expect(fast.tokens == 1_000_000, "starts full")
        let slow = RateLimiter(bytesPerSecond: 1000, now: 0)
        #expect(slow.burst == 64 * 1024)
        #expect(RateLimiter(bytesPerSecond: 1000, now: 0, burstSeconds: 100).burst == 100_000)
    }

    @Test func consumeGoesIntoDebtThenWaits() {
        var l = RateLimiter(bytesPerSecond: 1_000_000, now: 100)   // burst 100_000
        #expect(l.waitTime() == 0)
        #expect(consume(&l, 60_000, now: 100))
        #expect(l.tokens == 40_000)
        #expect(l.waitTime() == 0)
        #expect(consume(&l, 140_000, now: 100), "a positive bucket lets one write through into debt")
        #expect(l.tokens == -100_000)
        #expect(!consume(&l, 1, now: 100), "in debt: nothing passes")
        #expect(abs(l.waitTime() - 0.1) < 1e-9)
        #expect(!consume(&l, 1, now: 100.05), "half the debt repaid")
        #expect(abs(l.tokens - -50_000) < 1e-6)
        #expect(abs(l.waitTime() - 0.05) < 1e-9)
        #expect(!consume(&l, 1, now: 100.0999), "still in debt")
        #expect(consume(&l, 1, now: 100.1001))
    }

    @Test func refillIsCappedAtBurst() {
        var l = RateLimiter(bytesPerSecond: 1_000_000, now: 0)
        #expect(consume(&l, 100_000, now: 0))
        #expect(l.tokens == 0)
        l.refill(now: 0.03)
        #expect(abs(l.tokens - 30_000) < 1e-6)
        l.refill(now: 3600)
        #expect(l.tokens == l.burst, "an idle hour does not bank an hour of bytes")
    }

    @Test func longRunRateIsRespected() {
        // Drive 10 simulated seconds of 16 KiB writes with an injected clock.
        let rate: Int64 = 2_000_000
        var l = RateLimiter(bytesPerSecond: rate, now: 0)
        var now = 0.0
        var sent: Int64 = 0
        while now < 10 {
            if consume(&l, 16_384, now: now) { sent += 16_384 } else { now += max(l.waitTime(), 1e-6) }
        }
        let expected = Double(rate) * 10 + l.burst
        #expect(Double(sent) <= expected + 16_384)
        #expect(Double(sent) >= Double(rate) * 10 - 16_384)
    }
}

/// `tryConsume` is mutating, which `#expect` cannot call on a captured `var` directly.
private func consume(_ l: inout RateLimiter, _ bytes: Int, now: Double) -> Bool {
    l.tryConsume(bytes, now: now)
}
