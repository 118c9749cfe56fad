import Foundation
import HubCore
import HubDigest
import HubFakeHub
import HubServer
import HubStore
import HubTransfer
import Testing

/// A GET with curl whose body is read as it arrives (stdout is a pipe), so a test can look at the
/// first bytes of a response while the server is still producing the rest.
final class StreamingGet: @unchecked Sendable {
    private let process = Process()
    private let pipe = Pipe()
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private var eof = false

    init(_ url: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-N", "--max-time", "90", url]
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Reads until at least `n` bytes arrived or the body ended; returns everything so far.
    func read(atLeast n: Int) async -> [UInt8] {
        await withCheckedContinuation { (c: CheckedContinuation<[UInt8], Never>) in
            Thread { [self] in
                while true {
                    let done = lock.withLock { bytes.count >= n || eof }
                    if done { break }
                    let d = pipe.fileHandleForReading.availableData
                    lock.withLock { if d.isEmpty { eof = true } else { bytes += d } }
                }
                c.resume(returning: lock.withLock { bytes })
            }.start()
        }
    }

    /// Reads the body to its end and waits for curl: its exit status and every byte.
    func finish() async -> (status: Int32, body: [UInt8]) {
        let body = await read(atLeast: .max)
        return await withCheckedContinuation { c in
            Thread { [self] in
                process.waitUntilExit()
                c.resume(returning: (process.terminationStatus, body))
            }.start()
        }
    }
}

/// `serve --upstream` end to end: the real fetcher and transfer engine against the fake hub.
@Suite("Pull-through streaming", .timeLimit(.minutes(2)))
struct PullStreamTests {
    typealias Rule = FakeHub.FaultRule
    static let repo = FakeHub.model("up/big")

    static func fetcher(_ hub: FakeHub, _ cache: TestCache) -> UpstreamFetcher {
        var o = TransferOptions()
        o.retry.baseDelay = 0.01
        o.retry.maxDelay = 0.05
        o.stallTimeout = 60   // the test, not the engine, ends the upstream stall
        return UpstreamFetcher(endpoint: hub.endpoint, token: nil, cacheDirectory: cache.root, transfer: o)
    }

    static func streamNow(_ c: inout HubServerConfiguration) { c.pullThroughVerifyWait = .zero }

    @Test("HEAD comes from the listing alone; GETs stream the written prefix while upstream stalls and share one fetch")
    func streamsPrefixBeforeVerification() async throws {
        try await FakeHub.withHub { hub in
            let size: Int64 = 3 << 20
            try hub.commit(Self.repo, files: ["big.bin": .pattern(seed: 11, size: size, lfs: true), "README.md": "# big\n"])
            let content = try FakeHub.FileContent.pattern(seed: 11, size: size).allBytes()
            let sha = Digest.hex(.sha256, of: content)
            let stall = hub.addFault(Rule(.any, match: .file("big.bin"), method: .get, times: 1, action: .stallAfter(bytes: 1 << 20)))
            let cache = try TestCache()
            try await withServer(cache, configure: Self.streamNow, pullThrough: Self.fetcher(hub, cache)) { s in
                let url = s.url + "/up/big/resolve/main/big.bin"
                let head = try await http(url, method: "HEAD")
                #expect(head.status == 200)
                #expect(head.header("ETag") == "\"\(sha)\"")
                #expect(head.header("X-Linked-Size") == String(size))
                #expect(head.header("X-Repo-Commit") == hub.resolve(Self.repo))
                #expect(!hub.requests.contains { $0.path.hasSuffix("/big.bin") }, "a HEAD never starts a download")

                let a = try StreamingGet(url)
                let b = try StreamingGet(url)
                await hub.waitForStalls()
                let firstA = await a.read(atLeast: 1 << 20)
                let firstB = await b.read(atLeast: 1 << 20)
                // Upstream has sent exactly 1 MiB and is stalled: these bytes came before the file was complete.
                #expect(firstA.count == 1 << 20 && firstB.count == 1 << 20)
                #expect(firstA == Array(content[0..<(1 << 20)]))
                #expect(firstB == firstA)
                #expect(hub.stalledCount == 1)
                #expect(hub.firedCount(stall) == 1)
                let blob = cache.store.blobPath(Self.repo, etag: sha)
                #expect(!FileManager.default.fileExists(atPath: blob), "nothing is published before it is verified")
                #expect(hub.requests.filter { $0.path.hasSuffix("/big.bin") && $0.method == "GET" }.count == 1, "two clients, one upstream fetch")

                #expect(hub.releaseStalls() == 1)
                let (rcA, bodyA) = await a.finish()
                let (rcB, bodyB) = await b.finish()
                #expect(rcA == 0 && rcB == 0)
                #expect(bodyA == content && bodyB == content)
                #expect(FS.fileSize(blob) == size)
                let commit = try #require(hub.resolve(Self.repo))
                #expect(cache.store.snapshotEntryBlob(Self.repo, commit: commit, path: "big.bin")?.etag == sha)
                #expect(cache.store.snapshotEntryBlob(Self.repo, commit: commit, path: "README.md") == nil, "only what was asked for")
                // Now it is a stored file: served with no upstream request.
                let before = hub.requests.count
                #expect(try await http(url).body == content)
                #expect(hub.requests.count == before)
                let metrics = try await http(s.url + "/metrics").text.split(separator: "\n")
                #expect(metrics.contains { $0.hasPrefix("hubmirror_pull_through_total") && $0.contains("kind=\"file\"") && $0.contains("result=\"ok\"") && $0.hasSuffix(" 1") },
                        "one file fetch: \(metrics.filter { $0.hasPrefix("hubmirror_pull") })")
            }
        }
    }

    @Test("A streamed file whose digest fails is cut short of its length, never delivered whole")
    func corruptionCutsTheStream() async throws {
        try await FakeHub.withHub { hub in
            let size: Int64 = 2 << 20
            try hub.commit(Self.repo, files: ["bad.bin": .pattern(seed: 5, size: size, lfs: true)])
            let content = try FakeHub.FileContent.pattern(seed: 5, size: size).allBytes()
            let corrupt = hub.addFault(Rule(.any, match: .file("bad.bin"), method: .get, times: 1, action: .corruptByte(offset: 1_500_000)))
            let cache = try TestCache()
            try await withServer(cache, configure: Self.streamNow, pullThrough: Self.fetcher(hub, cache)) { s in
                let url = s.url + "/up/big/resolve/main/bad.bin"
                let (rc, body) = await (try StreamingGet(url)).finish()
                #expect(hub.firedCount(corrupt) == 1)
                #expect(body.count < content.count, "the last byte is held back until the digest matches")
                #expect(rc != 0, "curl reports the short body (exit \(rc))")
                // The mirror fetched it again and kept only the verified copy.
                let again = try await http(url)
                #expect(again.status == 200)
                #expect(again.body == content)
                // A client resuming the cut download would keep the bad bytes: it is made to start over.
                let resumed = try await http(url, headers: ["Range: bytes=\(body.count)-"])
                #expect(resumed.status == 200)
                #expect(resumed.body == content)
                // Other content keeps its ranges.
                try hub.commit(Self.repo, files: ["good.bin": .pattern(seed: 6, size: 4096, lfs: true)])
                let fresh = try await http(s.url + "/up/big/resolve/\(try #require(hub.resolve(Self.repo)))/good.bin", headers: ["Range: bytes=10-"])
                #expect(fresh.status == 206)
            }
        }
    }

    @Test("While a slow tree listing runs, a file is found with paths-info, served, and linked once the listing lands")
    func fileBeforeTheListingEnds() async throws {
        try await FakeHub.withHub { hub in
            let size: Int64 = 200_000
            try hub.commit(Self.repo, files: ["w.bin": .pattern(seed: 2, size: size, lfs: true), "a.txt": "a\n"])
            let content = try FakeHub.FileContent.pattern(seed: 2, size: size).allBytes()
            let commit = try #require(hub.resolve(Self.repo))
            let stall = hub.addFault(Rule(.hub, match: .rawPathContains("/tree/"), times: 1, action: .stallAfter(bytes: 0)))
            let cache = try TestCache()
            try await withServer(cache, configure: { $0.pullThroughListWait = .milliseconds(200) }, pullThrough: Self.fetcher(hub, cache)) { s in
                let url = s.url + "/up/big/resolve/main/w.bin"
                let head = try await http(url, method: "HEAD")
                #expect(head.status == 200)
                #expect(head.header("X-Repo-Commit") == commit)
                #expect(head.header("X-Linked-Size") == String(size))
                #expect(try await http(url).body == content)
                expectHubError(try await http(s.url + "/up/big/resolve/main/none.bin"), 404, "EntryNotFound")
                await hub.waitForStalls()
                #expect(hub.firedCount(stall) == 1 && hub.stalledCount == 1, "the tree listing is still stalled")
                #expect(hub.requests.contains { $0.path.contains("/paths-info/") })
                let snap = cache.store.snapshotDirectory(Self.repo, commit: commit)
                #expect(!FileManager.default.fileExists(atPath: snap), "nothing is published before the listing")

                #expect(hub.releaseStalls() == 1)
                let info = try await http(s.url + "/api/models/up/big/revision/main")
                #expect(info.status == 200)
                let siblings = (info.object["siblings"] as? [[String: Any]] ?? []).compactMap { $0["rfilename"] as? String }
                #expect(Set(siblings) == ["w.bin", "a.txt"], "listings show every file of the commit")
                #expect(cache.store.snapshotEntryBlob(Self.repo, commit: commit, path: "w.bin")?.size == size, "linked by the listing")
                #expect(cache.store.snapshotEntryBlob(Self.repo, commit: commit, path: "a.txt") == nil)
            }
        }
    }

    @Test("Shutting down stops a pull-through fetch at once, keeping its partial data and journal")
    func shutdownStopsFetches() async throws {
        try await FakeHub.withHub { hub in
            let size: Int64 = 3 << 20
            try hub.commit(Self.repo, files: ["big.bin": .pattern(seed: 12, size: size, lfs: true)])
            // Stalled for good: without the stop, the fetch (and the shutdown) would wait out the 60 s stall timeout.
            _ = hub.addFault(Rule(.any, match: .file("big.bin"), method: .get, times: 1, action: .stallAfter(bytes: 1 << 20)))
            let cache = try TestCache()
            var config = HubServerConfiguration(cacheDirectory: cache.root, port: 0)
            Self.streamNow(&config)
            let server = try await TestServer.start(config, pullThrough: Self.fetcher(hub, cache))
            let get = try StreamingGet(server.url + "/up/big/resolve/main/big.bin")
            #expect(await get.read(atLeast: 1 << 20).count == 1 << 20)
            let started = ContinuousClock.now
            await server.stop()
            #expect(ContinuousClock.now - started < .seconds(30), "shutdown did not wait for the stalled download")
            let (rc, body) = await get.finish()
            #expect(rc != 0 && body.count < Int(size), "the client sees a short body, not a complete one")
            let partial = cache.store.stateDirectory(Self.repo) + "/partial-serve"
            let journal = try #require(FS.listDirectory(partial).first { $0.hasSuffix(".journal") })
            #expect(FS.exists(partial + "/" + journal.replacingOccurrences(of: ".journal", with: ".part")))
            let text = String(decoding: FS.readFile(partial + "/" + journal) ?? [], as: UTF8.self)
            #expect(text.contains("0 \(1 << 20)"), "the 1 MiB received is journaled for a resume: \(text)")
        }
    }

    @Test("Upstream errors of a pulled file reach the client as Hub errors")
    func upstreamErrors() async throws {
        try await FakeHub.withHub { hub in
            try hub.commit(Self.repo, files: ["gone.bin": .pattern(seed: 1, size: 4096, lfs: true)])
            _ = hub.addFault(Rule(.any, match: .file("gone.bin"), method: .get, times: 100, action: .status(404)))
            let cache = try TestCache()
            try await withServer(cache, pullThrough: Self.fetcher(hub, cache)) { s in
                expectHubError(try await http(s.url + "/up/big/resolve/main/gone.bin"), 404, "EntryNotFound")
                expectHubError(try await http(s.url + "/up/big/resolve/main/never-listed.bin"), 404, "EntryNotFound")
                expectHubError(try await http(s.url + "/up/nothing/resolve/main/x.bin"), 401, "RepoNotFound")
            }
        }
    }
}
