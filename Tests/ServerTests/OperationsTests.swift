import Foundation
import HubCore
import HubServer
import HubStore
import Testing

@Suite("Health, metrics, lifecycle", .timeLimit(.minutes(2)))
struct OperationsTests {
    @Test("healthz and Prometheus metrics")
    func healthAndMetrics() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache, configure: { $0.storeStatsInterval = .seconds(3600) }) { s in
            let h = try await http(s.url + "/healthz")
            #expect(h.status == 200 && h.text == "ok")
            _ = try await http(s.url + "/acme/tiny/resolve/main/model.bin")
            _ = try await http(s.url + "/acme/tiny/resolve/main/nope")
            _ = try await http(s.url + "/api/models/acme/gated")
            let m = try await http(s.url + "/metrics")
            #expect(m.status == 200)
            #expect(m.header("Content-Type")?.hasPrefix("text/plain") == true)
            let t = m.text
            #expect(t.contains(#"hubmirror_http_requests_total{route="resolve",method="GET",status="200"} 1"#), "\(t)")
            #expect(t.contains(#"hubmirror_http_requests_total{route="resolve",method="GET",status="404"} 1"#))
            #expect(t.contains(#"hubmirror_http_requests_total{route="healthz",method="GET",status="200"} 1"#))
            #expect(t.contains(#"hubmirror_http_errors_total{route="resolve",error="EntryNotFound"} 1"#))
            #expect(t.contains(#"hubmirror_http_errors_total{route="repo_info",error="GatedRepo"} 1"#))
            #expect(t.contains(#"hubmirror_http_response_body_bytes_total{route="resolve"} "#))
            #expect(t.contains("hubmirror_http_request_duration_seconds_bucket"))
            #expect(t.contains("hubmirror_http_requests_in_flight"))
            // The store gauges are filled by the first scan, before the first scrape is answered.
            let repos = t.split(separator: "\n").first { $0.hasPrefix("hubmirror_store_repos ") }
            #expect(Double(repos?.split(separator: " ").last ?? "") == 6)
            let bytes = t.split(separator: "\n").first { $0.hasPrefix("hubmirror_store_size_bytes ") }
            #expect(Double(bytes?.split(separator: " ").last ?? "0") ?? 0 > 0)
        }
    }

    @Test("Cancelling the serving task shuts the server down and frees the port")
    func shutdown() async throws {
        let cache = try Fixture.standard()
        var config = HubServerConfiguration(cacheDirectory: cache.root, port: 0, accessLog: false)
        config.storeStatsInterval = .seconds(3600)
        let s = try await TestServer.start(config)
        #expect(try await http(s.url + "/healthz").status == 200)
        await s.stop()
        await #expect(throws: (any Error).self) { try await http(s.url + "/healthz") }
    }

    @Test("Configuration is validated")
    func validation() throws {
        let cache = try TestCache()
        #expect(throws: HubError.self) { try HubServerConfiguration(cacheDirectory: cache.root + "/nope").validate() }
        #expect(throws: HubError.self) { try HubServerConfiguration(cacheDirectory: cache.root, port: 70000).validate() }
        #expect(throws: HubError.self) { try HubServerConfiguration(cacheDirectory: cache.root, pageSize: 0).validate() }
        #expect(throws: HubError.self) { try HubServerConfiguration(cacheDirectory: cache.root, publicURL: "mirror.example").validate() }
        try HubServerConfiguration(cacheDirectory: cache.root, publicURL: "https://mirror.example/hf").validate()
    }
}

/// A fetcher that publishes fixture repos into the test cache when asked, optionally held until
/// released, counting its calls.
actor FakeFetcher: PullThroughFetcher {
    let cache: TestCache
    var calls: [String] = []
    private var gate: CheckedContinuation<Void, Never>?
    private var held: Bool

    init(cache: TestCache, held: Bool = false) {
        self.cache = cache
        self.held = held
    }

    func release() {
        held = false
        gate?.resume()
        gate = nil
    }

    nonisolated func list(repo: RepoRef, revision: String) async throws -> String {
        try await record(repo: repo, revision: revision)
    }

    nonisolated func resolve(repo: RepoRef, revision: String) async throws -> String {
        await note("resolve \(repo)@\(revision)")
        guard repo.id.description == "up/model" else { throw HubError(.repoNotFound, "no such repo upstream") }
        return Fixture.main
    }

    nonisolated func entry(repo: RepoRef, commit: String, path: String) async throws -> ManifestEntry? {
        Fixture.files.first { $0.path == path }?.entry
    }

    nonisolated func fetch(repo: RepoRef, commit: String, entry: ManifestEntry, progress: PullProgress) async throws {
        try await store(repo: repo, commit: commit, entry: entry)
    }

    private func note(_ call: String) { calls.append(call) }

    /// Writes the fixture's content to `blobs/` and links it once the commit has a snapshot folder.
    private func store(repo: RepoRef, commit: String, entry: ManifestEntry) throws {
        calls.append("fetch \(repo):\(entry.path)")
        let blob = cache.store.blobPath(repo, etag: entry.etag)
        if FS.fileSize(blob) == nil, let f = Fixture.files.first(where: { $0.entry.etag == entry.etag }) {
            try FS.writeAtomically(f.content, to: blob)
        }
        if FS.isDirectory(cache.store.snapshotDirectory(repo, commit: commit)) {
            try cache.store.target(repo).link(entry, commit: commit)
        }
    }

    private func record(repo: RepoRef, revision: String) async throws -> String {
        calls.append("\(repo)@\(revision)")
        if held { await withCheckedContinuation { gate = $0 } }
        switch (repo.id.description, revision) {
        case ("up/model", "main"), ("up/model", Fixture.main):
            try cache.add(repo, commit: Fixture.main, files: Fixture.files, refs: ["main"])
            return Fixture.main
        case ("acme/tiny", Fixture.main):
            try cache.add(repo, commit: Fixture.main, files: Fixture.files)
            return Fixture.main
        case ("up/gated", _):
            try cache.add(repo, commit: Fixture.main, files: Fixture.dataFiles, refs: ["main"])
            try cache.setInfo(RepoInfo(repo: repo, gated: "auto"))
            return Fixture.main
        case ("up/flaky", _):
            throw HubError(.network, "connection reset by upstream")
        case (_, "nope"):
            throw HubError(.revisionNotFound, "no such revision upstream")
        default:
            throw HubError(.repoNotFound, "no such repo upstream")
        }
    }
}

@Suite("Pull-through", .timeLimit(.minutes(2)))
struct PullThroughTests {
    @Test("Missing repos and revisions are fetched once, then served; upstream errors map to Hub errors")
    func pull() async throws {
        let cache = try Fixture.standard()
        let fetcher = FakeFetcher(cache: cache)
        try await withServer(cache, configure: { $0.allow = ["up/*", "acme/*"] }, pullThrough: fetcher) { s in
            let info = try await http(s.url + "/api/models/up/model/revision/main")
            #expect(info.status == 200, "\(info)")
            #expect(info.object["sha"] as? String == Fixture.main)
            #expect(try await http(s.url + "/up/model/resolve/main/README.md").text == "# tiny\n")
            #expect(await fetcher.calls == ["up/model@main"], "served from the store after the first fetch")

            // A file of the manifest that the filtered snapshot lacks is completed on demand.
            let extra = try await http(s.url + "/acme/tiny/resolve/main/extra/not-synced.bin")
            #expect(extra.status == 200)
            #expect(extra.body == pattern(100, seed: 9))
            #expect(await fetcher.calls.last == "fetch acme/tiny:extra/not-synced.bin", "only the file asked for is fetched")

            expectHubError(try await http(s.url + "/api/models/up/missing"), 401, "RepoNotFound")
            expectHubError(try await http(s.url + "/acme/tiny/resolve/nope/README.md"), 404, "RevisionNotFound")
            let flaky = try await http(s.url + "/api/models/up/flaky/revision/main")
            #expect(flaky.status == 503)
            #expect(flaky.header("Retry-After") != nil)
            // Gated upstream: fetched, then refused without a token.
            expectHubError(try await http(s.url + "/up/gated/resolve/main/train.csv"), 403, "GatedRepo")
            #expect(try await http(s.url + "/up/gated/resolve/main/train.csv", headers: ["Authorization: Bearer sekrit-token"]).status == 200)
            // Not allowed: never fetched.
            expectHubError(try await http(s.url + "/api/models/other/model"), 401, "RepoNotFound")
            #expect(await !fetcher.calls.contains { $0.hasPrefix("other/") })
        }
    }

    @Test("A HEAD does not wait past its budget: 503 + Retry-After on the API, the listing goes on")
    func headBudget() async throws {
        let cache = try Fixture.standard()
        let fetcher = FakeFetcher(cache: cache, held: true)
        try await withServer(cache, configure: { $0.pullThroughHeadWait = .milliseconds(300) }, pullThrough: fetcher) { s in
            let url = s.url + "/api/models/up/model/revision/main"
            let h = try await http(url, method: "HEAD")
            #expect(h.status == 503)
            #expect(h.header("Retry-After") == "5")
            let h2 = try await http(url, method: "HEAD")
            #expect(h2.status == 503)
            #expect(await fetcher.calls == ["up/model@main"], "one listing, joined by the retry")
            await fetcher.release()
            let g = try await http(url)
            #expect(g.status == 200)
            #expect(g.object["sha"] as? String == Fixture.main)
        }
    }

    @Test("A file of a repo still being listed is looked up alone: HEAD and GET answer while the listing runs")
    func fileBeforeListing() async throws {
        let cache = try Fixture.standard()
        let fetcher = FakeFetcher(cache: cache, held: true)
        try await withServer(cache, configure: { $0.pullThroughListWait = .milliseconds(200) }, pullThrough: fetcher) { s in
            let url = s.url + "/up/model/resolve/main/sub/notes.txt"
            let h = try await http(url, method: "HEAD")
            #expect(h.status == 200)
            #expect(h.header("X-Repo-Commit") == Fixture.main)
            #expect(h.header("ETag") == "\"\(FixtureFile("sub/notes.txt", "notes\n").entry.etag)\"")
            let g = try await http(url)
            #expect(g.text == "notes\n")
            expectHubError(try await http(s.url + "/up/model/resolve/main/nope.txt"), 404, "EntryNotFound")
            #expect(!FS.exists(cache.store.snapshotDirectory(repo("up/model"), commit: Fixture.main)), "the listing is still held")
            await fetcher.release()
            // Once listed, the file fetched before is linked into the snapshot with the rest.
            let info = try await http(s.url + "/api/models/up/model/revision/main")
            #expect(info.status == 200)
            #expect(cache.store.snapshotEntryBlob(repo("up/model"), commit: Fixture.main, path: "sub/notes.txt") != nil)
        }
    }
}
