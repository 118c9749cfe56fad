import Testing
import HubCore

@Suite struct ByteSizeTests {
    static let parseCases: [(String, Int64)] = [
        ("4096", 4096), ("0", 0), ("512B", 512), ("1k", 1024), ("2K", 2048), ("1KB", 1024), ("1KiB", 1024),
        ("50M", 52_428_800), ("10MB", 10_485_760), ("10 MiB", 10_485_760), ("1.5GiB", 1_610_612_736), ("1g", 1_073_741_824),
        ("2T", 2_199_023_255_552), ("0.5k", 512), (" 7 ", 7), ("1.5", 2),
    ]

    @Test(arguments: parseCases)
    func parse(_ text: String, _ expected: Int64) {
        #expect(ByteSize.parse(text) == expected)
    }

    @Test(arguments: ["", " ", "abc", "-1", "5x", "1e3", ".", "1.2.3", "M", "10 PB", "9000000T"])
    func parseRejects(_ text: String) {
        #expect(ByteSize.parse(text) == nil)
    }

    static let formatCases: [(Int64, String)] = [
        (0, "0 B"), (512, "512 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
        (52_428_800, "50.0 MiB"), (1_610_612_736, "1.5 GiB"), (5 * 1_099_511_627_776, "5.0 TiB"), (2048 * 1_099_511_627_776, "2048.0 TiB"),
    ]

    @Test(arguments: formatCases)
    func format(_ bytes: Int64, _ expected: String) {
        #expect(ByteSize.format(bytes) == expected)
    }

    @Test(arguments: [Int64(1024), 1536, 52_428_800, 1_610_612_736])
    func formatThenParseRoundTrips(_ bytes: Int64) {
        #expect(ByteSize.parse(ByteSize.format(bytes)) == bytes)
    }
}

@Suite struct HubErrorTests {
    @Test func exitCodesAreDistinctAndDocumented() {
        let codes = HubError.Kind.allCases.map(\.exitCode)
        #expect(Set(codes).count == codes.count, "exit codes collide: \(codes)")
        #expect(!codes.contains(0), "0 means success")
        #expect(!codes.contains(1), "1 is the generic failure of a crash or uncaught error")
        #expect(HubError.Kind.usage.exitCode == 64)
        #expect(HubError(.usage, "x").exitCode == 64)
        #expect(HubError.Kind.interrupted.exitCode == 130)
        #expect(codes.allSatisfy { $0 > 0 && $0 < 256 })
    }

    @Test func retryableDefaults() {
        for k in [HubError.Kind.network, .rateLimited, .http, .verification, .upstreamChanged] {
            #expect(HubError(k, "x").isRetryable, "\(k)")
        }
        for k in [HubError.Kind.usage, .repoNotFound, .gated, .unsafePath, .diskFull, .lockHeld, .store] {
            #expect(!HubError(k, "x").isRetryable, "\(k)")
        }
        #expect(!HubError(.http, "x", retryable: false).isRetryable)
        #expect(HubError(.store, "x", retryable: true).isRetryable)
    }

    @Test func messageAndRetryAfter() {
        let e = HubError(.rateLimited, "slow down", retryAfter: 3)
        #expect(e.description == "slow down")
        #expect(e.message == "slow down")
        #expect(e.retryAfter == 3)
        #expect(e.kind == .rateLimited)
        #expect(HubError(.http, "x").retryAfter == nil)
        #expect(e == HubError(.rateLimited, "slow down", retryAfter: 3))
        #expect(e != HubError(.rateLimited, "slow down", retryAfter: 4))
    }
}
