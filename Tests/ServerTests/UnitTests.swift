import Foundation
import HubCore
@testable import HubServer
import HubStore
import Testing

@Suite("Parsing and policy", .timeLimit(.minutes(2)))
struct UnitTests {
    @Test("Range header: a-b, a-, -n, clamping, 416 and ignored forms")
    func ranges() {
        #expect(ByteRangeRequest.parse(nil, size: 10) == .whole)
        #expect(ByteRangeRequest.parse("bytes=0-0", size: 10) == .partial(0...0))
        #expect(ByteRangeRequest.parse("bytes=2-5", size: 10) == .partial(2...5))
        #expect(ByteRangeRequest.parse("bytes=2-", size: 10) == .partial(2...9))
        #expect(ByteRangeRequest.parse("bytes=-3", size: 10) == .partial(7...9))
        #expect(ByteRangeRequest.parse("bytes=-30", size: 10) == .partial(0...9))
        #expect(ByteRangeRequest.parse("bytes=5-25165960", size: 10) == .partial(5...9))
        #expect(ByteRangeRequest.parse("bytes=10-", size: 10) == .unsatisfiable)
        #expect(ByteRangeRequest.parse("bytes=10-12", size: 10) == .unsatisfiable)
        #expect(ByteRangeRequest.parse("bytes=-0", size: 10) == .unsatisfiable)
        #expect(ByteRangeRequest.parse("bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRangeRequest.parse("bytes=99999999999999999999999-", size: 10) == .unsatisfiable)
        #expect(ByteRangeRequest.parse("bytes=5-2", size: 10) == .whole)
        #expect(ByteRangeRequest.parse("bytes=0-1,4-5", size: 10) == .whole)
        #expect(ByteRangeRequest.parse("items=0-1", size: 10) == .whole)
        #expect(ByteRangeRequest.parse("bytes=a-b", size: 10) == .whole)
        #expect(ByteRangeRequest.parse("BYTES=1-2", size: 10) == .partial(1...2))
    }

    @Test("Routes split on literal markers, every reading kept")
    func routes() {
        #expect(Route.parse("/healthz") == .healthz)
        #expect(Route.parse("/api/agent-harnesses") == .agentHarnesses)
        guard case .api(.model, let r) = Route.parse("/api/models/acme/tiny/revision/refs%2Fpr%2F1") else { Issue.record("not api"); return }
        #expect(r.count == 1 && r[0].endpoint == .revision && r[0].repoSegments == ["acme", "tiny"] && r[0].rest == ["refs%2Fpr%2F1"])
        guard case .api(.dataset, let r2) = Route.parse("/api/datasets/acme/refs") else { Issue.record("not api"); return }
        #expect(r2.map(\.endpoint) == [.refs, .info])
        guard case .api(.model, let r3) = Route.parse("/api/models/gpt2/tree/main/sub%2Fdir") else { Issue.record("not api"); return }
        #expect(r3.first?.repoSegments == ["gpt2"] && r3.first?.rest == ["main", "sub%2Fdir"])
        guard case .resolve(let rr) = Route.parse("/datasets/acme/data/resolve/main/a/b.csv") else { Issue.record("not resolve"); return }
        #expect(rr.first?.type == .dataset && rr.first?.repoSegments == ["acme", "data"] && rr.first?.rest == ["main", "a", "b.csv"])
        guard case .resolve(let rm) = Route.parse("/gpt2/resolve/main/config.json") else { Issue.record("not resolve"); return }
        #expect(rm.first?.type == .model && rm.first?.repoSegments == ["gpt2"])
        #expect(Route.parse("/acme/tiny/resolve/main") == .notFound)
        #expect(Route.parse("/api/kernels/acme/x") == .notFound)
        #expect(Route.parse("/api/models") == .notFound)
        #expect(Route.parse("relative") == .notFound)
    }

    @Test("Query strings and form bodies")
    func query() {
        let q = QueryItems("paths=a%20b&paths=c+d&expand=false&bad=%zz&flag")
        #expect(q.values("paths") == ["a b", "c d"])
        #expect(q.bool("expand") == false)
        #expect(q.first("bad") == nil)
        #expect(q.first("flag") == "")
    }

    @Test("Allow globs and bearer tokens")
    func policy() {
        let p = AccessPolicy(tokens: ["t1"], allow: ["acme/*", "datasets/open/*"])
        #expect(p.isAllowed(repo("acme/x")))
        #expect(p.isAllowed(repo("acme/x", .dataset)))
        #expect(!p.isAllowed(repo("open/x")))
        #expect(p.isAllowed(repo("open/x", .dataset)))
        #expect(p.hasValidToken(authorization: "Bearer t1"))
        #expect(p.hasValidToken(authorization: "bearer  t1 "))
        #expect(!p.hasValidToken(authorization: "Bearer t2"))
        #expect(!p.hasValidToken(authorization: "Basic t1"))
        #expect(!p.hasValidToken(authorization: nil))
        let gated = RepoInfo(repo: repo("acme/g"), gated: "auto")
        #expect(p.decide(repo("acme/g"), info: gated, authorization: nil) == .gated)
        #expect(p.decide(repo("acme/g"), info: gated, authorization: "Bearer t1") == .granted)
        #expect(p.decide(repo("acme/p"), info: RepoInfo(repo: repo("acme/p"), isPrivate: true), authorization: "Bearer no") == .hidden)
        #expect(p.decide(repo("other/p"), info: nil, authorization: "Bearer t1") == .hidden)
        #expect(AccessPolicy(tokens: [], allow: []).decide(repo("a/b"), info: gated, authorization: "Bearer ") == .gated)
    }

    @Test("--allow values no repo could match are refused at start, naming the option and the pattern")
    func allowValidation() throws {
        for (text, why) in [("[", "no closing ']'"), ("acme/[a-", "no closing ']'"), ("", "names no repo"), ("datasets/", "names no repo after 'datasets/'"),
                            ("acme/[z-a]", "runs backwards"), ("acme/ti ny", "no ' '"), ("a/b/c", "at most one '/'")] {
            var config = HubServerConfiguration(cacheDirectory: NSTemporaryDirectory(), allow: ["acme/*", text])
            let e = try #require(throws: HubError.self, "--allow '\(text)'") { try config.validate() }
            #expect(e.kind == .usage && e.exitCode == 64)
            #expect(e.message.hasPrefix("--allow '\(text)'") && e.message.contains(why), "\(e.message)")
            config.allow = ["acme/*", "datasets/open/*", "[ab]c?/x*", "gpt2", "acme/"]
            try config.validate()
        }
    }

    @Test("Failed-verification cool-down: the failure is answered until it ends, only for verification failures")
    func failedFetches() throws {
        var f = FailedFetches(cooldown: .seconds(60))
        let t0 = ContinuousClock.now
        #expect(!FailedFetches.startsCooldown(HubError(.network, "reset")))
        #expect(FailedFetches.startsCooldown(HubError(.verification, "digest mismatch 3 times")))
        f.record("m/a#1", HubError(.verification, "a.bin: digest mismatch 3 times"), at: t0)
        let e = try #require(f.failure("m/a#1", at: t0 + .seconds(10)))
        #expect(e.kind == .verification && !e.isRetryable)
        #expect(e.message.contains("failed verification") && e.message.contains("a.bin: digest mismatch 3 times") && e.message.contains("50 s"), "\(e.message)")
        #expect(e.retryAfter == 50)
        #expect(f.failure("m/a#1", at: t0 + .milliseconds(59_500))?.retryAfter == 1)
        #expect(f.failure("m/a#1", at: t0 + .seconds(60)) == nil, "a fetch may start again once the cool-down is over")
        #expect(f.failure("m/b#2", at: t0) == nil, "per content")
        var off = FailedFetches(cooldown: .zero)
        off.record("m/a#1", HubError(.verification, "x"), at: t0)
        #expect(off.failure("m/a#1", at: t0) == nil, "a zero cool-down is off")
    }

    @Test("Tokens file: one per line, comments and blanks skipped")
    func tokens() {
        #expect(HubServerConfiguration.parseTokens("# team\nabc\n\n  def  \n#x\n") == ["abc", "def"])
    }

    @Test("Folder oids are git tree ids (checked against git write-tree)")
    func gitTrees() {
        let e = [
            ManifestEntry(path: "README.md", size: 7, blobID: "8e2e871357bef652084a73f7173adc5eb8859a33"),
            ManifestEntry(path: "sub/a.txt", size: 1, blobID: "e25f1814e51579d5f55c0f1fe0135ddb28a47f4a"),
            ManifestEntry(path: "sub/a/x.txt", size: 1, blobID: "c1b0730e0133447badcfd47fd144e254807b06e1"),
            ManifestEntry(path: "sub/model.bin", size: 1024, blobID: "abc8240e440587e9d4b59102163573492833ac8a"),
        ]
        let oids = CommitView.gitTreeOIDs(e)
        #expect(oids[""] == "f626ad6fd3736b6398ce7592d40a7f479901d5ad")
        #expect(oids["sub"] == "e4f452d8204e360c784d42b81a584d0fdb84666f")
        #expect(oids["sub/a"] == "b1140f98f130cab0c87eaf311a3ea27f5fdc160f")
    }

    @Test("Hub date format")
    func dates() {
        #expect(HubDate.format(0) == "1970-01-01T00:00:00.000Z")
        #expect(HubDate.format(1_700_000_000.25) == "2023-11-14T22:13:20.250Z")
    }
}
