import Foundation
import HubCore
import HubFakeHub
import HubServer
import HubStore
import HubTransfer
import Testing

/// `serve --upstream` against an upstream that corrupts a file on every fetch: the real fetcher
/// and transfer engine, the fake hub counting the bytes it served.
@Suite("Pull-through of content that never verifies", .timeLimit(.minutes(2)))
struct PullCooldownTests {
    typealias Rule = FakeHub.FaultRule
    static let repo = FakeHub.model("up/bad")
    static let corruptionRetries = TransferOptions().corruptionRetries

    @Test("A large file corrupted on every fetch: streams are cut, then one failed fetch answers every client 502")
    func largeFileCoolsDown() async throws {
        // Streamed at once, so before the end is known every client gets 200 and a cut body.
        try await checkCooldown(size: 3 << 20) { $0.pullThroughVerifyWait = .zero }
    }

    @Test("A small file corrupted on every fetch: one failed fetch answers every client 502")
    func smallFileCoolsDown() async throws {
        try await checkCooldown(size: 4096) { _ in }
    }

    func checkCooldown(size: Int64, configure: (inout HubServerConfiguration) -> Void,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await FakeHub.withHub { hub in
            try hub.commit(Self.repo, files: ["bad.bin": .pattern(seed: 9, size: size, lfs: true)])
            _ = hub.addFault(Rule(.any, match: .file("bad.bin"), method: .get, times: 100_000, action: .corruptByte(offset: size / 2)))
            let cache = try TestCache()
            try await withServer(cache, configure: configure, pullThrough: PullStreamTests.fetcher(hub, cache)) { s in
                let url = s.url + "/up/bad/resolve/main/bad.bin"
                // A client that retries each failed download, as the official client does, until refused.
                var refused: HTTPResult?
                for _ in 0..<20 {
                    let (rc, r) = try await httpExchange(url)
                    if r.status == 502 { refused = r; break }
                    #expect(r.status == 200 && rc != 0 && r.body.count < Int(size), "a cut body, never a whole corrupt file: \(r.status) \(r.body.count) B",
                            sourceLocation: sourceLocation)
                }
                #expect(refused != nil, "after the corruption retries are used up the file is refused", sourceLocation: sourceLocation)
                // Within the cool-down every client, one after another or at once, gets the same answer at once.
                let later = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
                    for _ in 0..<4 { group.addTask { try await http(url) } }
                    var out: [HTTPResult] = []
                    for try await r in group { out.append(r) }
                    for _ in 0..<4 { out.append(try await http(url)) }
                    return out
                }
                for r in later {
                    #expect(r.status == 502, "\(r)", sourceLocation: sourceLocation)
                    let message = r.header("X-Error-Message") ?? ""
                    #expect(message.contains("bad.bin") && message.contains("failed verification"), "\(message)", sourceLocation: sourceLocation)
                    #expect(r.text.contains("failed verification"), sourceLocation: sourceLocation)
                    #expect(Int(r.header("Retry-After") ?? "").map { $0 > 0 && $0 <= 60 } == true, "\(r)", sourceLocation: sourceLocation)
                }
                let served = hub.bytesSent(path: "bad.bin")
                #expect(served <= Int64(Self.corruptionRetries + 1) * size,
                        "upstream served \(served) B for a \(size) B file: at most one failed fetch (\(Self.corruptionRetries + 1) downloads)",
                        sourceLocation: sourceLocation)
                #expect(!FileManager.default.fileExists(atPath: cache.store.blobPath(Self.repo, etag: try #require(hub.manifest(Self.repo)?.entries.first?.etag))),
                        "nothing unverified is stored", sourceLocation: sourceLocation)
                let metrics = try await http(s.url + "/metrics").text
                #expect(metrics.contains("result=\"cooldown\""), "refusals in the cool-down are counted", sourceLocation: sourceLocation)
            }
        }
    }
}
