import Foundation
import HubCore
import HubFakeHub
import HubOperations
import HubStore
import HubSync
import HubTransfer
import Testing

/// The config file: every key, and errors that name the file, line and key.
@Suite struct MirrorConfigTests {
    @Test("A full config is read; defaults fill the rest")
    func fullConfig() throws {
        let c = try MirrorConfig.parse("""
            cache_dir = "/srv/hf/hub"
            endpoint = "https://hf.example"
            token_file = "/etc/hubmirror/token"
            state_dir = "/var/lib/hubmirror"
            connections = 16
            jobs = 4
            chunk_size = "32M"
            max_rate = 1048576
            stall_timeout = 45
            fsync = false
            peers = ["http://mirror-b:8080"]
            advertise = "http://mirror-a:8080"

            [[peer]]
            url = "http://mirror-c:8080"
            token_file = "/etc/hubmirror/c.token"

            [retention]
            keep_unreferenced = 2
            grace = 600.5

            [[repo]]
            id = "openai-community/gpt2"
            revisions = ["main", "refs/pr/1"]
            include = ["*.json"]
            exclude = ["*.bin"]

            [[repo]]
            id = "acme/data"
            type = "dataset"
            """, file: "m.toml")
        #expect(c.cacheDir == "/srv/hf/hub" && c.endpoint == "https://hf.example" && c.tokenFile == "/etc/hubmirror/token")
        #expect(c.stateDir == "/var/lib/hubmirror" && c.connections == 16 && c.jobs == 4)
        #expect(c.chunkSize == 32 << 20 && c.maxRate == 1 << 20 && c.stallTimeout == 45 && !c.fsync)
        #expect(c.keepUnreferenced == 2 && c.grace == 600.5)
        #expect(c.peers == ["http://mirror-b:8080", "http://mirror-c:8080"] && c.advertise == "http://mirror-a:8080")
        #expect(c.peerTokenFiles == ["http://mirror-c:8080": "/etc/hubmirror/c.token"])
        #expect(c.repos.count == 2)
        #expect(c.repos[0].repo.description == "openai-community/gpt2" && c.repos[0].revisions == ["main", "refs/pr/1"])
        #expect(c.repos[0].filter.keeps("config.json") && !c.repos[0].filter.keeps("model.bin"))
        #expect(c.repos[0].line == 22)
        #expect(c.repos[1].repo.type == .dataset && c.repos[1].revisions == ["main"] && c.repos[1].line == 28)
    }

    @Test("Errors name the file, the line and the key", arguments: [
        ("colour = 1\n[[repo]]\nid = \"a/b\"\n", "m.toml:1: unknown key 'colour' in the top level"),
        ("[retention]\nkeep = 1\n[[repo]]\nid = \"a/b\"\n", "m.toml:2: unknown key 'keep' in [retention]"),
        ("[[repo]]\nid = \"a/b\"\n\n[[repo]]\nid = \"c/d\"\nrevison = [\"main\"]\n", "m.toml:6: unknown key 'revison' in [[repo]] number 2"),
        ("connections = \"many\"\n[[repo]]\nid = \"a/b\"\n", "m.toml:1: 'connections' must be an integer"),
        ("[[repo]]\nid = \"a/b\"\ntype = \"kernel\"\n", "m.toml:3: type must be model, dataset or space"),
        ("[[repo]]\nid = \"a/b/c\"\n", "m.toml:2:"),
        ("[[repo]]\nid = \"a/b\"\nrevisions = [\"../x\"]\n", "m.toml:3:"),
        ("[[repo]]\nid = \"a/b\"\n[[repo]]\nid = \"a/b\"\n", "m.toml:4: a/b is listed twice"),
        ("[[repo]]\ntype = \"model\"\n", "m.toml:1: [[repo]] number 1 has no id"),
        ("endpoint = \"https://x\"\n", "no repositories"),
        ("[[repo]]\nid = \"a/b\"\nmax_rate = [\n", "m.toml:"),
        ("endpoint = \"ftp://x\"\n[[repo]]\nid = \"a/b\"\n", "m.toml:1: 'endpoint' must be an http(s) URL, not 'ftp://x'"),
        ("endpoint = \"https://\"\n[[repo]]\nid = \"a/b\"\n", "m.toml:1: 'endpoint'"),
        ("[[repo]]\nid = \"a/b\"\n\n[retention]\n", "m.toml:4: [retention] needs keep_unreferenced"),
        ("[retention]\ngrace = 10\n[[repo]]\nid = \"a/b\"\n", "m.toml:1: [retention] needs keep_unreferenced"),
        ("jobs = 1000\n[[repo]]\nid = \"a/b\"\n", "m.toml:1: 'jobs' must be an integer between 1 and 256"),
        ("\nstall_timeout = 0\n[[repo]]\nid = \"a/b\"\n", "m.toml:2: 'stall_timeout' must be a number of seconds between 1 and 3600"),
        ("chunk_size = \"1K\"\n[[repo]]\nid = \"a/b\"\n", "m.toml:1: 'chunk_size' must be a size of at least 64"),
        ("max_rate = 10\n[[repo]]\nid = \"a/b\"\n", "m.toml:1: 'max_rate' must be a size of at least"),
        ("cache_dir = \"\"\n[[repo]]\nid = \"a/b\"\n", "m.toml:1: 'cache_dir' is empty"),
        ("advertise = \"mirror-a:8080\"\n[[repo]]\nid = \"a/b\"\n", "m.toml:1: 'advertise' must be this mirror's http(s) serve URL"),
        ("[[peer]]\ntoken_file = \"t\"\n[[repo]]\nid = \"a/b\"\n", "m.toml:1: [[peer]] number 1 has no url"),
        ("[[repo]]\nid = \"a/b\"\n[[peer]]\nurl = \"x\"\n", "m.toml:4: a [[peer]] url must be an http(s) URL"),
        ("[[peer]]\nurl = \"http://c:1\"\ntoken = \"t\"\n[[repo]]\nid = \"a/b\"\n", "m.toml:3: unknown key 'token' in [[peer]] number 1"),
    ])
    func errors(_ text: String, _ expected: String) {
        do {
            _ = try MirrorConfig.parse(text, file: "m.toml")
            Issue.record("accepted: \(text)")
        } catch let e as HubError {
            #expect(e.kind == .config)
            #expect(e.exitCode == 3)
            #expect(e.message.contains(expected), "\(e.message)")
        } catch {
            Issue.record("\(error)")
        }
    }
}

/// Cron runs against the fake hub: lock, per-repo failures, exit codes, report, retention.
@Suite struct MirrorRunTests {
    static let model = FakeHub.model("acme/m1")
    static let data = FakeHub.dataset("acme/d1")

    func runner(_ hub: FakeHub, _ tmp: TempDir, _ text: String) throws -> MirrorRunner {
        let config = try MirrorConfig.parse(text, file: tmp.path + "/m.toml")
        return MirrorRunner(config: config, configPath: tmp.path + "/m.toml", cacheDir: tmp.path + "/hub", endpoint: hub.endpoint,
                            token: nil, transfer: testTransferOptions())
    }

    static let twoRepos = """
        [[repo]]
        id = "acme/m1"
        revisions = ["main", "v1"]

        [[repo]]
        id = "acme/d1"
        type = "dataset"
        """

    @Test("Every repo and revision synced: exit 0, a report on disk; the next run makes one request per revision")
    func allSynced() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let c = try hub.commit(Self.model, files: ["a.txt": "a\n", "w.bin": .pattern(seed: 1, size: 200_000, lfs: true)])
            try hub.tag(Self.model, "v1", c)
            try hub.commit(Self.data, files: ["t.csv": "x\n"])
            let r = try runner(hub, tmp, Self.twoRepos)
            let report = try await onThread { try r.run() }
            #expect(report.exitCode == 0)
            #expect(report.entries.map { "\($0.repo)@\($0.revision) \($0.status)" } == ["acme/m1@main ok", "acme/m1@v1 ok", "acme/d1@main ok"])
            let saved = try #require(FS.readFile(r.stateDir + "/last-run.json"))
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(saved)) as? [String: Any])
            #expect((doc["entries"] as? [Any])?.count == 3 && doc["exitCode"] as? Int == 0)
            #expect(FS.listDirectory(r.stateDir + "/runs").count == 1)

            hub.clearLog()
            let again = try await onThread { try r.run() }
            #expect(again.entries.allSatisfy { $0.result?.upToDate == true && $0.result?.apiRequests == 1 })
            #expect(hub.requests.count == 3)
        }
    }

    @Test("Some repos failing: the others still sync, exit 51; all failing: exit 52; the lock held: exit 50")
    func failuresAndLock() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            try hub.commit(Self.model, files: ["a.txt": "a\n"])
            let partial = try runner(hub, tmp, "[[repo]]\nid = \"acme/gone\"\n\n[[repo]]\nid = \"acme/m1\"\n")
            let p = try await onThread { try partial.run() }
            #expect(p.exitCode == 51)
            #expect(p.entries.map(\.status) == ["failed", "ok"])
            #expect(p.entries[0].exitCode == 10 && p.entries[0].error?.contains("acme/gone") == true)
            #expect(CacheStore(root: tmp.path + "/hub").readRef(Self.model, revision: "main") != nil)

            let none = try runner(hub, tmp, "[[repo]]\nid = \"acme/gone\"\n")
            #expect(try await onThread { try none.run() }.exitCode == 52)

            let lock = try FileLock(path: none.stateDir + "/mirror.lock", what: "test")
            defer { lock.unlock() }
            let e = await hubError { _ = try await onThread { try none.run() } }
            #expect(e?.kind == .lockHeld && e?.exitCode == 50)
        }
    }

    @Test("Retention after the run drops unnamed snapshots beyond the limit, only for repos that synced")
    func retention() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let c1 = try hub.commit(Self.model, files: ["a.txt": "a\n"])
            let text = "[retention]\nkeep_unreferenced = 0\ngrace = 0\n\n[[repo]]\nid = \"acme/m1\"\n"
            _ = try await onThread { try self.runner(hub, tmp, text).run() }
            try hub.commit(Self.model, files: ["a.txt": "b\n"])
            let report = try await onThread { try self.runner(hub, tmp, text).run() }
            #expect(report.gc?.repos.first?.snapshots == [c1])
            #expect(!FS.exists(CacheStore(root: tmp.path + "/hub").snapshotDirectory(Self.model, commit: c1)))
        }
    }

    @Test("The CLI: a bad config exits 3 naming file and line; a run exits with the report's code")
    func cli() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            try hub.commit(Self.model, files: ["a.txt": "a\n"])
            try FS.writeAtomically(Array("[[repo]]\nid = \"acme/m1\"\nincludes = [\"*\"]\n".utf8), to: tmp.path + "/bad.toml")
            let (rc, _, err) = try await runHubmirror(["mirror", "--config", tmp.path + "/bad.toml"])
            #expect(rc == 3)
            #expect(err.contains("bad.toml:3: unknown key 'includes'"), "\(err)")
            try FS.writeAtomically(Array("# mirror\nendpoint = \"ftp://x\"\n[[repo]]\nid = \"acme/m1\"\n".utf8), to: tmp.path + "/ftp.toml")
            let (rcFTP, _, errFTP) = try await runHubmirror(["mirror", "--config", tmp.path + "/ftp.toml"])
            #expect(rcFTP == 3 && errFTP.contains("ftp.toml:2: 'endpoint' must be an http(s) URL"), "\(rcFTP) \(errFTP)")
            try FS.writeAtomically(Array("\ntoken_file = \"\(tmp.path)/absent\"\n[[repo]]\nid = \"acme/m1\"\n".utf8), to: tmp.path + "/tok.toml")
            let (rcTok, _, errTok) = try await runHubmirror(["mirror", "--config", tmp.path + "/tok.toml"])
            #expect(rcTok == 3 && errTok.contains("tok.toml:2: cannot read token_file"), "\(rcTok) \(errTok)")
            let good = "cache_dir = \"\(tmp.path)/hub\"\nendpoint = \"\(hub.endpoint)\"\n[[repo]]\nid = \"acme/m1\"\n[[repo]]\nid = \"acme/gone\"\n"
            try FS.writeAtomically(Array(good.utf8), to: tmp.path + "/m.toml")
            let (rcDry, outDry, errDry) = try await runHubmirror(["mirror", "--config", tmp.path + "/m.toml", "--dry-run"])
            #expect(rcDry == 51 && outDry.contains("a.txt") && errDry.contains("acme/gone"), "\(outDry)\(errDry)")
            #expect(!FS.exists(tmp.path + "/hubmirror"), "a dry run takes no lock and writes no report")
            #expect(CacheStore(root: tmp.path + "/hub").readRef(Self.model, revision: "main") == nil)
            let (rc2, out2, err2) = try await runHubmirror(["mirror", "--config", tmp.path + "/m.toml"])
            #expect(rc2 == 51, "\(out2)\(err2)")
            #expect(out2.contains("ok      models/acme/m1@main") && out2.contains("FAILED  models/acme/gone@main (exit 10)"), "\(out2)")
            #expect(FS.exists(tmp.path + "/hubmirror/last-run.json"))
        }
    }

    /// The runner blocks its thread (curl); keep it off the cooperative pool the fake hub runs on.
    func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in Thread { c.resume(with: Result { try body() }) }.start() }
    }
}
