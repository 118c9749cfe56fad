import Foundation
import HubCore
import HubFakeHub
import HubStore
import HubSync
import HubTransfer
import Testing

/// `hubmirror sync` against a real HTTP fake hub on 127.0.0.1: layout, pagination, redirects,
/// tokens, the differ, and no-op reruns.
@Suite struct SyncTests {
    static let repo = FakeHub.model("acme/tiny")

    /// A repo with small regular files and LFS files (some big enough to be chunked).
    static func populate(_ hub: FakeHub) throws -> String {
        try hub.commit(repo, files: [
            "README.md": "# tiny\n",
            "config.json": .text("{\"a\": 1}\n"),
            "model.safetensors": .pattern(seed: 1, size: 6 << 20, lfs: true),
            "sub/dir/weights.bin": .pattern(seed: 2, size: 3 << 20, lfs: true),
            "odd name & #1?.txt": "odd\n",
            "ünïcode/файл.txt": "unicode\n",
        ])
    }

    func request(_ hub: FakeHub, _ cache: String, revision: String = "main", token: String? = nil,
                 filter: PathFilter = PathFilter(), _ change: (inout TransferOptions) -> Void = { _ in }) -> SyncRequest {
        SyncRequest(repo: Self.repo, revision: revision, filter: filter, endpoint: hub.endpoint, token: token,
                    location: .cache(cache), transfer: testTransferOptions { o in o.chunkSize = 1 << 20; change(&o) })
    }

    @Test("A synced tag is recorded as a tag, asked upstream once per new ref name")
    func tagNamesAreRecorded() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            try hub.tag(Self.repo, "v1", commit)
            _ = try await runSync(request(hub, tmp.path, revision: "v1"))
            let store = CacheStore(root: tmp.path)
            #expect(store.loadRepoInfo(Self.repo)?.tags == ["v1"])
            hub.clearLog()
            _ = try await runSync(request(hub, tmp.path, revision: "v1"))
            _ = try await runSync(request(hub, tmp.path, revision: commit))
            #expect(!hub.requests.contains { $0.path.hasSuffix("/refs") }, "a known ref and a sha ask nothing more")
            #expect(store.loadRepoInfo(Self.repo)?.tags == ["v1"])
        }
    }

    @Test func syncWritesTheCacheLayoutAndASecondRunMakesOneRequest() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            let (r1, plan1) = try await runSync(request(hub, tmp.path))
            #expect(r1.commit == commit)
            #expect(plan1.counts[.added] == 6)
            #expect(r1.filesFetched == 6)
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
            let store = CacheStore(root: tmp.path)
            let ref = try #require(FS.readFile(store.refPath(Self.repo, revision: "main")))
            #expect(String(decoding: ref, as: UTF8.self) == commit, "ref holds exactly the sha, no newline")
            #expect(FS.exists(store.repoDirectory(Self.repo) + "/trees/\(commit).json"))
            #expect(FS.listDirectory(store.stateDirectory(Self.repo) + "/partial").isEmpty, "no partial files left")

            hub.clearLog()
            let (r2, plan2) = try await runSync(request(hub, tmp.path))
            #expect(plan2.isNoop)
            #expect(r2.upToDate)
            #expect(r2.bytesReceived == 0)
            #expect(hub.requests.count == 1, "second run: \(hub.requests.map(\.description))")
            #expect(hub.requests.first?.path.contains("/revision/main") == true)
        }
    }

    @Test func treePaginationIsFollowed() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            hub.pageSize = 2
            let commit = try Self.populate(hub)
            let (r, _) = try await runSync(request(hub, tmp.path))
            #expect(r.filesFetched == 6)
            let treeCalls = hub.requests.filter { $0.path.contains("/tree/") }
            #expect(treeCalls.count >= 3, "followed Link rel=next: \(treeCalls.map(\.path))")
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
        }
    }

    @Test func liveHubRedirectsAndTheTokenNeverLeavesTheEndpoint() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            hub.liveHubStyle = true
            hub.validTokens = ["hf_secret"]
            hub.createRepo(Self.repo, private: true)
            let commit = try Self.populate(hub)
            let (r, _) = try await runSync(request(hub, tmp.path, token: "hf_secret"))
            #expect(r.filesFetched == 6)
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
            let cdn = hub.requests.filter { $0.server == .cdn }
            #expect(!cdn.isEmpty, "LFS files went through the CDN")
            #expect(cdn.allSatisfy { $0.authorization == nil }, "no Authorization on another host")
            let hubSide = hub.requests.filter { $0.server == .hub }
            #expect(hubSide.allSatisfy { $0.authorization == "Bearer hf_secret" })
            #expect(hub.requests.contains { $0.path.contains("/api/resolve-cache/") }, "followed the relative 307")
        }
    }

    @Test func revisionsBranchTagShaAndPullRequest() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let c1 = try Self.populate(hub)
            try hub.tag(Self.repo, "v1.0", c1)
            let pr = try hub.commit(Self.repo, parent: c1, files: ["pr.txt": "pr\n"])
            try hub.setRef(Self.repo, "refs/pr/1", pr)
            try hub.setBranch(Self.repo, "feature/x", pr)
            for rev in ["v1.0", c1, "refs/pr/1", "feature/x"] {
                let (r, _) = try await runSync(request(hub, tmp.path, revision: rev))
                #expect(r.commit == (rev == "v1.0" || rev == c1 ? c1 : pr))
            }
            let store = CacheStore(root: tmp.path)
            #expect(store.readRef(Self.repo, revision: "refs/pr/1") == pr)
            #expect(store.readRef(Self.repo, revision: "feature/x") == pr)
            #expect(store.readRef(Self.repo, revision: "v1.0") == c1)
            #expect(!FS.exists(store.refPath(Self.repo, revision: c1)), "no ref file named after a sha")
            #expect(hub.requests.contains { $0.path.contains("/revision/refs%2Fpr%2F1") }, "revision sent as one encoded segment")
            try expectSnapshotMatches(hub, Self.repo, commit: pr, cache: tmp.path)
        }
    }

    @Test func diffBetweenTwoCommitsFindsEveryKindOfChange() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let c1 = try hub.commit(Self.repo, files: [
                "README.md": "v1\n", "keep.txt": "same\n", "old.txt": "gone\n", "tok.json": "{\"t\":1}\n",
                "big.bin": .pattern(seed: 5, size: 1 << 20, lfs: true),
            ])
            let c2 = try hub.commit(Self.repo, files: [
                "README.md": "v2\n", "tokenizer/tok.json": "{\"t\":1}\n", "new.txt": "new\n",
                "moved/big.bin": .pattern(seed: 5, size: 1 << 20, lfs: true),
            ], deleting: ["old.txt", "tok.json", "big.bin"])
            let plan = try await runPlan(request(hub, tmp.path), from: c1)
            #expect(plan.fromCommit == c1 && plan.toCommit == c2)
            func kind(_ p: String) -> ChangeKind? { plan.items.first { $0.path == p }?.kind }
            #expect(kind("README.md") == .changed)
            #expect(kind("keep.txt") == .unchanged)
            #expect(kind("old.txt") == .deleted)
            #expect(kind("new.txt") == .added)
            #expect(kind("tokenizer/tok.json") == .renamed)
            #expect(plan.items.first { $0.path == "tokenizer/tok.json" }?.fromPath == "tok.json")
            #expect(kind("moved/big.bin") == .renamed)
            #expect(plan.bytesToFetch == Int64("v2\n".utf8.count + "new\n".utf8.count), "renames move no bytes")

            // Applying it: sync c1, then main; the renamed LFS file is not fetched again.
            _ = try await runSync(request(hub, tmp.path, revision: c1))
            hub.clearLog()
            let (r, applied) = try await runSync(request(hub, tmp.path))
            #expect(applied.counts[.renamed] == 2 && applied.counts[.deleted] == 1 && applied.counts[.changed] == 1)
            #expect(r.filesFetched == 2)
            #expect(hub.bytesSent(path: "moved/big.bin") == 0)
            try expectSnapshotMatches(hub, Self.repo, commit: c2, cache: tmp.path)
        }
    }

    @Test func includeExcludeSelectFiles() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            let (r, plan) = try await runSync(request(hub, tmp.path, filter: PathFilter(include: ["*.json", "sub/"], exclude: ["config*"])))
            #expect(Set(plan.items.map(\.path)) == ["sub/dir/weights.bin"])
            #expect(r.filesFetched == 1)
            let snap = CacheStore(root: tmp.path).snapshotDirectory(Self.repo, commit: commit)
            #expect(!FS.exists(snap + "/README.md"))
            #expect(FS.exists(snap + "/sub/dir/weights.bin"))
        }
    }

    @Test func identicalContentIsFetchedOnceAcrossPathsAndRepos() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let other = FakeHub.model("acme/other")
            try hub.commit(Self.repo, files: ["a.bin": .pattern(seed: 9, size: 2 << 20, lfs: true), "b.bin": .pattern(seed: 9, size: 2 << 20, lfs: true)])
            try hub.commit(other, files: ["c.bin": .pattern(seed: 9, size: 2 << 20, lfs: true)])
            let (r1, _) = try await runSync(request(hub, tmp.path))
            #expect(r1.bytesReceived == 2 << 20, "same content at two paths fetched once")
            var req = request(hub, tmp.path)
            req.repo = other
            let (r2, _) = try await runSync(req)
            #expect(r2.bytesReceived == 0, "content held by another repo of the cache is linked, not fetched")
        }
    }

    @Test func localDirGetsAPlainTreeAndFollowsRenamesAndDeletes() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let dir = tmp.path + "/tree"
            let c1 = try hub.commit(Self.repo, files: ["a.txt": "a\n", "old.txt": "old\n", "w.bin": .pattern(seed: 3, size: 1 << 20, lfs: true)])
            var req = request(hub, tmp.path)
            req.location = .localDir(dir)
            _ = try await runSync(req)
            #expect(FS.readFile(dir + "/a.txt") == Array("a\n".utf8))
            let meta = String(decoding: FS.readFile(dir + "/.cache/huggingface/download/a.txt.metadata") ?? [], as: UTF8.self).split(separator: "\n")
            #expect(meta.count == 3 && meta[0] == c1)
            #expect(FS.readFile(dir + "/.cache/huggingface/.gitignore") == Array("*".utf8))
            try hub.commit(Self.repo, files: ["moved/w.bin": .pattern(seed: 3, size: 1 << 20, lfs: true)], deleting: ["old.txt", "w.bin"])
            hub.clearLog()
            let (r, _) = try await runSync(req)
            #expect(r.bytesReceived == 0)
            #expect(!FS.exists(dir + "/old.txt") && !FS.exists(dir + "/w.bin"))
            #expect(FS.fileSize(dir + "/moved/w.bin") == 1 << 20)
        }
    }

    @Test func hubErrorsBecomeClearErrorsWithDistinctKinds() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            _ = try Self.populate(hub)
            let gated = FakeHub.model("acme/gated")
            hub.createRepo(gated, gated: true)
            try hub.commit(gated, files: ["x": "x"])
            hub.validTokens = ["good"]

            var missing = request(hub, tmp.path)
            missing.repo = FakeHub.model("acme/missing")
            let e1 = await hubError { _ = try await runSync(missing) }
            #expect(e1?.kind == .repoNotFound && e1?.message.contains("acme/missing") == true)
            let e2 = await hubError { _ = try await runSync(request(hub, tmp.path, revision: "nope")) }
            #expect(e2?.kind == .revisionNotFound && e2?.message.contains("nope") == true)
            var g = request(hub, tmp.path)
            g.repo = gated
            let e3 = await hubError { _ = try await runSync(g) }
            #expect(e3?.kind == .gated)
            g.token = "good"
            let (ok, _) = try await runSync(g)
            #expect(ok.filesFetched == 1)
            #expect(Set([e1!.exitCode, e2!.exitCode, e3!.exitCode]).count == 3)
        }
    }

    @Test(arguments: ["../evil.txt", "a/../../evil.txt", "a\\b.txt", "sub/./x.txt"])
    func unsafeRemotePathsAreRefusedBeforeAnythingIsWritten(_ bad: String) async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let cache = tmp.path + "/cache"
            try hub.commit(Self.repo, files: ["ok.txt": "ok\n", bad: "evil\n"])
            let e = await hubError { _ = try await runSync(request(hub, cache)) }
            #expect(e?.kind == .unsafePath)
            #expect(e?.message.contains("acme/tiny") == true)
            #expect(!FS.exists(tmp.path + "/evil.txt") && !FS.exists(cache + "/evil.txt"))
            #expect(!FS.exists(CacheStore(root: cache).repoDirectory(Self.repo) + "/snapshots"))
            #expect(!hub.requests.contains { $0.path.contains("/resolve/") }, "nothing was downloaded")
        }
    }

    @Test("A filter that selects no file of the revision is refused (usage) and publishes nothing; a revision with no files is fine")
    func filterSelectingNothingIsRefused() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            let e = await hubError { _ = try await runSync(request(hub, tmp.path, filter: PathFilter(include: ["nomatch*"]))) }
            #expect(e?.kind == .usage && e?.exitCode == 64)
            #expect(e?.message.contains("'nomatch*'") == true && e?.message.contains("acme/tiny @ main") == true && e?.message.contains(commit) == true,
                    "\(e?.message ?? "")")
            let store = CacheStore(root: tmp.path)
            #expect(store.readRef(Self.repo, revision: "main") == nil && !FS.exists(store.snapshotDirectory(Self.repo, commit: commit)))
            let excluded = await hubError { _ = try await runSync(request(hub, tmp.path, filter: PathFilter(exclude: ["*"]))) }
            #expect(excluded?.kind == .usage)

            let empty = FakeHub.model("acme/empty")
            try hub.commit(empty, files: [:])
            var req = request(hub, tmp.path, filter: PathFilter(include: ["*.bin"]))
            req.repo = empty
            let (r, _) = try await runSync(req)
            #expect(r.filesFetched == 0)

            let (rc, _, err) = try await runHubmirror(["sync", "acme/tiny", "--include", "nomatch*", "--endpoint", hub.endpoint, "--cache-dir", tmp.path])
            #expect(rc == 64 && err.contains("nomatch*"), "\(rc) \(err)")
        }
    }

    @Test("sync --json emits an error event for every failure, bad arguments included")
    func jsonErrorEventForBadArguments() async throws {
        let tmp = TempDir()
        for args in [["sync", "a/b/c"], ["sync", "acme/x", "--revision", "../x"], ["sync", "acme/x", "--endpoint", "ftp://x"]] {
            let (rc, out, _) = try await runHubmirror(args + ["--json", "--cache-dir", tmp.path])
            #expect(rc == 64)
            let line = try #require(out.split(separator: "\n").last, "stdout of \(args) is empty")
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(event["event"] as? String == "error" && event["kind"] as? String == "usage" && event["exit_code"] as? Int == 64, "\(event)")
            #expect((event["message"] as? String)?.isEmpty == false)
        }
    }
}

