import Foundation
import HubCore
import HubServer
import HubStore
import Testing

@Suite("Hub API routes", .timeLimit(.minutes(2)))
struct APITests {
    @Test("Repo info: branch, tag, sha, encoded and raw refs/pr/1, bare form, HEAD")
    func repoInfo() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache) { s in
            let cases: [(String, String)] = [
                ("/api/models/acme/tiny", Fixture.main),
                ("/api/models/acme/tiny/revision/main", Fixture.main),
                ("/api/models/acme/tiny/revision/v1.0", Fixture.main),
                ("/api/models/acme/tiny/revision/\(Fixture.main)", Fixture.main),
                ("/api/models/acme/tiny/revision/feature%2Fx", Fixture.feature),
                ("/api/models/acme/tiny/revision/feature/x", Fixture.feature),
                ("/api/models/acme/tiny/revision/refs%2Fpr%2F1", Fixture.pr),
                ("/api/models/acme/tiny/revision/refs/pr/1", Fixture.pr),
                ("/api/models/gpt9/revision/main", Fixture.main),
                ("/api/datasets/acme/data/revision/main", Fixture.main),
                ("/api/spaces/acme/app", Fixture.main),
            ]
            for (path, sha) in cases {
                let r = try await http(s.url + path)
                #expect(r.status == 200, "\(path): \(r)")
                #expect(r.object["sha"] as? String == sha, "\(path)")
                #expect(r.object["id"] as? String != nil, "\(path)")
                #expect(r.header("Content-Type")?.hasPrefix("application/json") == true)
            }
            let r = try await http(s.url + "/api/models/acme/tiny/revision/main")
            let o = r.object
            #expect(o["id"] as? String == "acme/tiny")
            #expect(o["private"] as? Bool == false)
            #expect(o["gated"] as? Bool == false)
            let lm = try #require(o["lastModified"] as? String)
            #expect(lm.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
            let names = (o["siblings"] as? [[String: Any]] ?? []).compactMap { $0["rfilename"] as? String }
            #expect(Set(names) == Fixture.linked, "only files present in the snapshot")
            #expect(!r.text.contains("xet"), "never a Xet field")

            let blobs = try await http(s.url + "/api/models/acme/tiny/revision/main?blobs=true").object
            let model = (blobs["siblings"] as? [[String: Any]] ?? []).first { $0["rfilename"] as? String == "model.bin" }
            let expected = Fixture.files.first { $0.path == "model.bin" }!.entry
            #expect(model?["size"] as? Int == 4096)
            #expect(model?["blobId"] as? String == expected.blobID)
            let lfs = model?["lfs"] as? [String: Any]
            #expect(lfs?["sha256"] as? String == expected.lfs?.sha256)
            #expect(lfs?["size"] as? Int == 4096)
            #expect(lfs?["pointerSize"] as? Int == Int(expected.lfs!.pointerSize))

            let expand = try await http(s.url + "/api/models/acme/tiny/revision/main?expand=sha&expand=lastModified").object
            #expect(Set(expand.keys) == ["id", "sha", "lastModified"])

            let head = try await http(s.url + "/api/models/acme/tiny", method: "HEAD")
            #expect(head.status == 200)
            let headRev = try await http(s.url + "/api/models/acme/tiny/revision/\(Fixture.main)", method: "HEAD")
            #expect(headRev.status == 200)
        }
    }

    @Test("Repo info errors: missing repo, missing revision, bad method, unknown routes")
    func repoInfoErrors() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache) { s in
            expectHubError(try await http(s.url + "/api/models/acme/nope"), 401, "RepoNotFound")
            expectHubError(try await http(s.url + "/api/models/acme/nope/revision/main"), 401, "RepoNotFound")
            expectHubError(try await http(s.url + "/api/datasets/acme/tiny/revision/main"), 401, "RepoNotFound")
            expectHubError(try await http(s.url + "/api/models/acme/tiny/revision/nope"), 404, "RevisionNotFound")
            expectHubError(try await http(s.url + "/api/models/acme/tiny/revision/\(Fixture.other)"), 404, "RevisionNotFound")
            expectHubError(try await http(s.url + "/api/models/not..valid/x"), 401, "RepoNotFound")
            let post = try await http(s.url + "/api/models/acme/tiny", method: "POST", body: "x")
            #expect(post.status == 405)
            #expect(post.header("Allow") == "GET, HEAD")
            #expect(try await http(s.url + "/nothing/here").status == 404)
            let xet = try await http(s.url + "/api/models/acme/tiny/xet-read-token/\(Fixture.main)")
            #expect(xet.status == 404)
            let harness = try await http(s.url + "/api/agent-harnesses")
            #expect(harness.status == 200)
            #expect(harness.text == #"{"standardEnvVars":[],"harnesses":{}}"#)
        }
    }

    @Test("Tree: levels, recursion, sub-paths in every spelling, directories with git oids")
    func tree() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache) { s in
            let top = try await http(s.url + "/api/models/acme/tiny/tree/main")
            #expect(top.status == 200)
            let topPaths = top.array.compactMap { $0["path"] as? String }
            #expect(Set(topPaths) == ["README.md", "config.json", "model.bin", "empty.txt", "sub", "odd name & #1?.txt", "ünï"])
            let sub = top.array.first { $0["path"] as? String == "sub" }
            #expect(sub?["type"] as? String == "directory")
            #expect((sub?["oid"] as? String)?.count == 40)

            let all = try await http(s.url + "/api/models/acme/tiny/tree/\(Fixture.main)?recursive=true&expand=false")
            let files = all.array.filter { $0["type"] as? String == "file" }
            #expect(Set(files.compactMap { $0["path"] as? String }) == Fixture.linked)
            for f in files {
                let e = Fixture.files.first { $0.path == f["path"] as? String }!.entry
                #expect(f["oid"] as? String == e.blobID)
                #expect(f["size"] as? Int == Int(e.size))
                let lfs = f["lfs"] as? [String: Any]
                #expect(lfs?["oid"] as? String == e.lfs?.sha256)
                #expect(lfs?["pointerSize"] as? Int == e.lfs.map { Int($0.pointerSize) })
                #expect(f["xetHash"] == nil)
            }

            for spelling in ["sub%2Fdir", "sub/dir", "sub/dir/"] {
                let r = try await http(s.url + "/api/models/acme/tiny/tree/main/\(spelling)")
                #expect(r.status == 200, "\(spelling)")
                #expect(r.array.compactMap { $0["path"] as? String } == ["sub/dir/w.bin"], "\(spelling)")
            }
            // olah: empty path with a trailing slash.
            let olah = try await http(s.url + "/api/models/acme/tiny/tree/\(Fixture.main)/?recursive=false")
            #expect(Set(olah.array.compactMap { $0["path"] as? String }) == Set(topPaths))
            let subRec = try await http(s.url + "/api/models/acme/tiny/tree/main/sub?recursive=true")
            #expect(subRec.array.compactMap { $0["path"] as? String } == ["sub/dir", "sub/dir/w.bin", "sub/notes.txt"])
            let unicode = try await http(s.url + "/api/models/acme/tiny/tree/main/%C3%BCn%C3%AF")
            #expect(unicode.array.compactMap { $0["path"] as? String } == ["ünï/cødé.txt"])

            let missing = try await http(s.url + "/api/models/acme/tiny/tree/main/nope")
            expectHubError(missing, 404, "EntryNotFound")
            #expect(missing.header("X-Repo-Commit") == Fixture.main)
            expectHubError(try await http(s.url + "/api/models/acme/tiny/tree/main/README.md"), 404, "EntryNotFound")
            expectHubError(try await http(s.url + "/api/models/acme/tiny/tree/main/extra"), 404, "EntryNotFound")
            expectHubError(try await http(s.url + "/api/models/acme/tiny/tree/nope"), 404, "RevisionNotFound")
            let pr = try await http(s.url + "/api/models/acme/tiny/tree/refs%2Fpr%2F1?recursive=true")
            #expect(pr.array.compactMap { $0["path"] as? String } == ["README.md"])
            let prRaw = try await http(s.url + "/api/models/acme/tiny/tree/refs/pr/1")
            #expect(prRaw.array.compactMap { $0["path"] as? String } == ["README.md"])
            #expect(try await http(s.url + "/api/models/acme/tiny/tree/main?cursor=%21%21").status == 400)
        }
    }

    @Test("Tree pagination: absolute Link rel=next pinned to the commit, every entry exactly once")
    func pagination() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache, configure: { $0.pageSize = 2 }) { s in
            var next: String? = s.url + "/api/models/acme/tiny/tree/main?recursive=true&expand=false"
            var seen: [String] = []
            var pages = 0
            while let url = next {
                let r = try await http(url)
                #expect(r.status == 200, "\(r)")
                #expect(r.array.count <= 2)
                seen += r.array.compactMap { $0["path"] as? String }
                pages += 1
                next = nil
                if let link = r.header("Link") {
                    let m = try #require(link.firstMatch(of: /^<(http:\/\/[^>]+)>; rel="next"$/))
                    let u = String(m.1)
                    #expect(u.hasPrefix(s.url + "/api/models/acme/tiny/tree/\(Fixture.main)?"), "\(u)")
                    next = u
                }
                #expect(pages < 20)
            }
            // 8 files and 3 folders (sub, sub/dir, ünï): 11 entries, 6 pages
            #expect(seen.count == Set(seen).count)
            #expect(Set(seen) == Fixture.linked.union(["sub", "sub/dir", "ünï"]))
            #expect(pages == 6)

            // Non-recursive pages of a sub-folder keep the folder in the link.
            let first = try await http(s.url + "/api/models/acme/tiny/tree/main/sub%2Fdir?recursive=false")
            #expect(first.header("Link") == nil)
            let root = try await http(s.url + "/api/models/acme/tiny/tree/main")
            #expect(root.header("Link") != nil)
            let host = try await http(s.url + "/api/models/acme/tiny/tree/main", headers: ["Host: mirror.example:9000"])
            #expect(host.header("Link")?.hasPrefix("<http://mirror.example:9000/api/models/acme/tiny/tree/") == true)
        }
        try await withServer(cache, configure: { $0.pageSize = 3; $0.publicURL = "https://hf.example.com/mirror/" }) { s in
            let r = try await http(s.url + "/api/models/acme/tiny/tree/main/sub?recursive=true")
            #expect(r.header("Link") == nil)
            let r2 = try await http(s.url + "/api/models/acme/tiny/tree/main")
            let link = try #require(r2.header("Link"))
            #expect(link.hasPrefix("<https://hf.example.com/mirror/api/models/acme/tiny/tree/\(Fixture.main)?recursive=false&expand=false&cursor="))
        }
    }

    @Test("paths-info: form body, JSON body, folders, missing and unsafe paths omitted")
    func pathsInfo() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache) { s in
            let form = "paths=README.md&paths=sub&paths=odd+name+%26+%231%3F.txt&paths=%C3%BCn%C3%AF%2Fc%C3%B8d%C3%A9.txt"
                + "&paths=missing.txt&paths=..%2Fetc&paths=extra%2Fnot-synced.bin&paths=README.md&expand=false"
            let r = try await http(s.url + "/api/models/acme/tiny/paths-info/main", method: "POST",
                                   headers: ["Content-Type: application/x-www-form-urlencoded"], body: form)
            #expect(r.status == 200, "\(r)")
            #expect(r.array.compactMap { $0["path"] as? String } == ["README.md", "sub", "odd name & #1?.txt", "ünï/cødé.txt"])
            #expect(r.array[1]["type"] as? String == "directory")
            #expect(r.array[0]["oid"] as? String == Fixture.files[0].entry.blobID)

            let j = try await http(s.url + "/api/models/acme/tiny/paths-info/refs%2Fpr%2F1", method: "POST",
                                   headers: ["Content-Type: application/json"], body: #"{"paths":["README.md","model.bin"]}"#)
            #expect(j.array.compactMap { $0["size"] as? Int } == [Fixture.prFiles[0].content.count])
            #expect(try await http(s.url + "/api/models/acme/tiny/paths-info/main", method: "GET").status == 405)
            #expect(try await http(s.url + "/api/models/acme/tiny/paths-info/main", method: "HEAD").status == 200)
            expectHubError(try await http(s.url + "/api/models/acme/tiny/paths-info/nope", method: "POST", body: "paths=a"), 404, "RevisionNotFound")
        }
    }

    @Test("refs and commits")
    func refsAndCommits() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache) { s in
            // Without recorded tag names every ref is a branch; with them (sync writes them) tags are tags.
            let before = try await http(s.url + "/api/models/acme/tiny/refs").object
            #expect((before["branches"] as? [Any])?.count == 3)
            #expect((before["tags"] as? [Any])?.isEmpty == true)
            try cache.setInfo(RepoInfo(repo: Fixture.tiny, tags: ["v1.0", "gone"]))
            let r = try await http(s.url + "/api/models/acme/tiny/refs").object
            let branches = (r["branches"] as? [[String: Any]] ?? []).map { "\($0["name"]!)|\($0["ref"]!)|\($0["targetCommit"]!)" }
            #expect(Set(branches) == ["main|refs/heads/main|\(Fixture.main)", "feature/x|refs/heads/feature/x|\(Fixture.feature)"])
            let tags = (r["tags"] as? [[String: Any]] ?? []).map { "\($0["name"]!)|\($0["ref"]!)|\($0["targetCommit"]!)" }
            #expect(tags == ["v1.0|refs/tags/v1.0|\(Fixture.main)"])
            #expect((r["converts"] as? [Any])?.isEmpty == true)
            #expect(r["pullRequests"] == nil)
            let withPRs = try await http(s.url + "/api/models/acme/tiny/refs?include_prs=1").object
            let prs = withPRs["pullRequests"] as? [[String: Any]] ?? []
            #expect(prs.count == 1 && prs[0]["ref"] as? String == "refs/pr/1" && prs[0]["targetCommit"] as? String == Fixture.pr)
            expectHubError(try await http(s.url + "/api/models/acme/nope/refs"), 401, "RepoNotFound")

            let c = try await http(s.url + "/api/models/acme/tiny/commits/feature%2Fx")
            #expect(c.status == 200)
            #expect(c.array.first?["id"] as? String == Fixture.feature)
            #expect(c.array.first?["authors"] as? [Any] != nil)
            #expect(c.array.first?["date"] as? String != nil)
        }
    }
}
