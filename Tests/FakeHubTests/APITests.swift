import Foundation
import HubCore
import HubFakeHub
import Testing

@Suite struct APITests {
    @Test func knownAnswerHashesMatchTheProtocolExample() throws {
        let readme = try FakeHub.StoredFile(path: "README.md", content: .text("# tiny\n"))
        #expect(readme.blobID == "8e2e871357bef652084a73f7173adc5eb8859a33")
        #expect(readme.etag == readme.blobID)
        #expect(!readme.lfs)
        let model = try FakeHub.StoredFile(path: "model.bin", content: .bytes([UInt8](repeating: 0, count: 1024)), lfs: true)
        #expect(model.blobID == "abc8240e440587e9d4b59102163573492833ac8a")
        #expect(model.sha256 == "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef")
        #expect(model.pointerSize == 129)
        #expect(model.etag == model.sha256)
        let auto = try FakeHub.StoredFile(path: "big.bin", content: .pattern(seed: 1, size: FakeHub.lfsThreshold))
        #expect(auto.lfs)
    }

    @Test func patternIsDeterministicAtAnyOffset() throws {
        let content = FakeHub.FileContent.pattern(seed: 9, size: 10_000)
        let all = try content.allBytes()
        #expect(all.count == 10_000)
        for (a, b) in [(0, 1), (3, 17), (8, 16), (1_001, 9_999), (9_990, 10_000), (5, 5)] as [(Int64, Int64)] {
            #expect(try content.bytes(in: a..<b) == Array(all[Int(a)..<Int(b)]))
        }
        #expect(try content.bytes(in: 9_990..<20_000).count == 10)
        #expect(try FakeHub.FileContent.pattern(seed: 10, size: 64).allBytes() != Array(all[0..<64]))
    }

    @Test func revisionInfo() async throws {
        try await FakeHub.withHub(cdn: false) { hub in
            let demo = try hub.loadDemo()
            let e = hub.endpoint
            let main = try await curl("\(e)/api/models/acme/tiny-model/revision/main")
            #expect(main.status == 200)
            let info = try #require(try main.json() as? [String: Any])
            #expect(info[string: "id"] == "acme/tiny-model")
            #expect(info[string: "sha"] == demo.commit2)
            let siblings = (info["siblings"] as? [[String: Any]] ?? []).compactMap { $0[string: "rfilename"] }
            #expect(siblings.contains("tokenizer/tokenizer.json") && !siblings.contains("old-notes.txt"))
            #expect(info["gated"] as? Bool == false)

            // Revisions: tag, encoded branch with a slash, encoded and raw PR refs, a sha, the short form.
            for (rev, sha) in [("v1.0", demo.commit1), ("feature%2Fx", demo.featureCommit), ("refs%2Fpr%2F1", demo.prCommit),
                               ("refs/pr/1", demo.prCommit), (demo.commit1, demo.commit1)] {
                let r = try await curl("\(e)/api/models/acme/tiny-model/revision/\(rev)")
                #expect(r.status == 200, "rev \(rev)")
                #expect((try r.json() as? [String: Any])?[string: "sha"] == sha, "rev \(rev)")
            }
            let short = try await curl("\(e)/api/models/acme/tiny-model")
            #expect((try short.json() as? [String: Any])?[string: "sha"] == demo.commit2)

            let blobs = try await curl("\(e)/api/models/acme/tiny-model/revision/main?blobs=true")
            let blobSiblings = (try blobs.json() as? [String: Any])?["siblings"] as? [[String: Any]] ?? []
            let model = try #require(blobSiblings.first { $0[string: "rfilename"] == "model.safetensors" })
            let file = try #require(hub.files(FakeHub.Demo.model, "main")["model.safetensors"])
            #expect((model["lfs"] as? [String: Any])?[string: "sha256"] == file.sha256)
            #expect(model[string: "blobId"] == file.blobID)

            let head = try await curl("-I", "\(e)/api/models/acme/tiny-model/revision/main")
            #expect(head.status == 200)

            let badRev = try await curl("\(e)/api/models/acme/tiny-model/revision/nope")
            #expect(badRev.status == 404 && badRev.header("x-error-code") == "RevisionNotFound")
            #expect(badRev.text.contains("\"error\""))
            let badRepo = try await curl("\(e)/api/models/acme/nope/revision/main")
            #expect(badRepo.status == 401 && badRepo.header("x-error-code") == "RepoNotFound")
            let wrongType = try await curl("\(e)/api/datasets/acme/tiny-model/revision/main")
            #expect(wrongType.header("x-error-code") == "RepoNotFound")
            let data = try await curl("\(e)/api/datasets/acme/tiny-data/revision/main")
            #expect((try data.json() as? [String: Any])?[string: "sha"] == demo.datasetCommit)
            let space = try await curl("\(e)/api/spaces/acme/tiny-space")
            #expect((try space.json() as? [String: Any])?[string: "sha"] == demo.spaceCommit)
        }
    }

    @Test func singleSegmentRepoIds() async throws {
        try await FakeHub.withHub(cdn: false) { hub in
            let gpt = FakeHub.model("gpt2")
            let sha = try hub.commit(gpt, files: ["config.json": "{}\n"])
            let info = try await curl("\(hub.endpoint)/api/models/gpt2/revision/main")
            #expect((try info.json() as? [String: Any])?[string: "sha"] == sha)
            let file = try await curl("\(hub.endpoint)/gpt2/resolve/main/config.json")
            #expect(file.text == "{}\n" && file.header("x-repo-commit") == sha)
            let tree = try await curl("\(hub.endpoint)/api/models/gpt2/tree/main")
            #expect((try tree.json() as? [[String: Any]])?.count == 1)
        }
    }

    @Test func treePaginationWithAbsoluteLink() async throws {
        try await FakeHub.withHub(cdn: false) { hub in
            let demo = try hub.loadDemo()
            hub.pageSize = 3
            var url: String? = "\(hub.endpoint)/api/models/acme/tiny-model/tree/\(demo.commit2)?recursive=true&expand=false"
            var paths: [String] = []
            var types: [String: String] = [:]
            var pages = 0
            while let next = url {
                let page = try await curl(next)
                #expect(page.status == 200)
                for entry in try #require(try page.json() as? [[String: Any]]) {
                    paths.append(entry[string: "path"]!)
                    types[entry[string: "path"]!] = entry[string: "type"]
                }
                pages += 1
                url = nil
                if let link = page.header("link") {
                    #expect(link.hasPrefix("<\(hub.endpoint)/api/models/acme/tiny-model/tree/"))
                    #expect(link.hasSuffix(">; rel=\"next\""))
                    #expect(link.contains("recursive=true"))
                    url = String(link.dropFirst().prefix { $0 != ">" })
                }
            }
            let files = Set(hub.files(FakeHub.Demo.model, demo.commit2).keys)
            #expect(Set(paths) == files.union(["sub", "sub/dir", "tokenizer"]))
            #expect(paths.count == Set(paths).count)
            #expect(pages == (files.count + 3 + 2) / 3)
            #expect(types["sub/dir"] == "directory" && types["vocab.txt"] == "file")

            hub.pageSize = 1000
            let root = try await curl("\(hub.endpoint)/api/models/acme/tiny-model/tree/main")
            let rootPaths = Set((try root.json() as? [[String: Any]] ?? []).compactMap { $0[string: "path"] })
            #expect(rootPaths.contains("sub") && rootPaths.contains("README.md") && !rootPaths.contains("sub/dir"))
            #expect(root.header("link") == nil)

            // Sub-path encoded with nothing safe, trailing slash (olah), missing path.
            let sub = try await curl("\(hub.endpoint)/api/models/acme/tiny-model/tree/main/sub%2Fdir?recursive=false")
            let subEntries = try #require(try sub.json() as? [[String: Any]])
            #expect(subEntries.map { $0[string: "path"] } == ["sub/dir/weights.bin"])
            let lfs = try #require(subEntries.first?["lfs"] as? [String: Any])
            #expect(lfs[string: "oid"] == hub.files(FakeHub.Demo.model, "main")["sub/dir/weights.bin"]?.sha256)
            #expect(lfs["pointerSize"] as? Int != nil)
            let slash = try await curl("\(hub.endpoint)/api/models/acme/tiny-model/tree/\(demo.commit2)/?recursive=true")
            #expect((try slash.json() as? [[String: Any]])?.count == paths.count)
            let missing = try await curl("\(hub.endpoint)/api/models/acme/tiny-model/tree/main/nope")
            #expect(missing.status == 404 && missing.header("x-error-code") == "EntryNotFound")
            #expect(missing.header("x-repo-commit") == demo.commit2)
        }
    }

    @Test func pathsInfoRefsCommitsAndUnknownRoutes() async throws {
        try await FakeHub.withHub(cdn: false) { hub in
            let demo = try hub.loadDemo()
            let e = hub.endpoint
            let info = try await curl("-X", "POST", "--data", "paths=README.md&paths=sub&paths=missing&expand=false",
                                      "\(e)/api/models/acme/tiny-model/paths-info/main")
            let entries = try #require(try info.json() as? [[String: Any]])
            #expect(entries.map { $0[string: "path"] } == ["README.md", "sub"])
            #expect(entries.map { $0[string: "type"] } == ["file", "directory"])
            let odd = try await curl("--data-urlencode", "paths=\(FakeHub.Demo.oddFileName)", "\(e)/api/models/acme/tiny-model/paths-info/\(demo.commit1)")
            #expect((try odd.json() as? [[String: Any]])?.first?[string: "path"] == FakeHub.Demo.oddFileName)

            let refs = try #require(try await curl("\(e)/api/models/acme/tiny-model/refs").json() as? [String: Any])
            #expect(refs["pullRequests"] == nil && (refs["converts"] as? [Any])?.isEmpty == true)
            let branches = (refs["branches"] as? [[String: Any]] ?? []).map { $0[string: "name"] ?? "" }
            #expect(branches == ["feature/x", "main"])
            #expect((refs["tags"] as? [[String: Any]])?.first?[string: "targetCommit"] == demo.commit1)
            let withPRs = try #require(try await curl("\(e)/api/models/acme/tiny-model/refs?include_prs=1").json() as? [String: Any])
            let prs = withPRs["pullRequests"] as? [[String: Any]] ?? []
            #expect(prs.first?[string: "ref"] == "refs/pr/1" && prs.first?[string: "targetCommit"] == demo.prCommit)

            let commits = try #require(try await curl("\(e)/api/models/acme/tiny-model/commits/main").json() as? [[String: Any]])
            #expect(commits.map { $0[string: "id"] } == [demo.commit2, demo.commit1])

            let unknown = try await curl("\(e)/nothing/here")
            #expect(unknown.status == 404 && unknown.header("x-error-code") == "RepoNotFound")
            let xet = try await curl("\(e)/api/models/acme/tiny-model/xet-read-token/\(demo.commit2)")
            #expect(xet.status == 404)
        }
    }

    @Test func privateAndGatedReposNeedAValidToken() async throws {
        try await FakeHub.withHub(cdn: false) { hub in
            try hub.loadDemo()
            let secret = FakeHub.model("acme/secret")
            hub.createRepo(secret, private: true)
            try hub.commit(secret, files: ["a.txt": "a\n"])
            let e = hub.endpoint
            let auth = ["-H", "Authorization: Bearer \(FakeHub.Demo.token)"]
            let bad = ["-H", "Authorization: Bearer hf_wrong"]

            let gated = try await curl("\(e)/api/models/acme/gated-model/revision/main")
            #expect(gated.status == 403 && gated.header("x-error-code") == "GatedRepo")
            #expect(try await curl(bad + ["\(e)/api/models/acme/gated-model/revision/main"]).status == 403)
            #expect(try await curl(auth + ["\(e)/api/models/acme/gated-model/revision/main"]).status == 200)
            let gatedFile = try await curl("-I", "\(e)/acme/gated-model/resolve/main/model.bin")
            #expect(gatedFile.status == 403 && gatedFile.header("x-error-code") == "GatedRepo")
            #expect(try await curl(auth + ["-I", "\(e)/acme/gated-model/resolve/main/model.bin"]).status == 200)

            let hidden = try await curl("\(e)/api/models/acme/secret/tree/main")
            #expect(hidden.status == 401 && hidden.header("x-error-code") == "RepoNotFound")
            let hiddenFile = try await curl("-I", "\(e)/acme/secret/resolve/main/a.txt")
            #expect(hiddenFile.status == 401 && hiddenFile.header("x-error-code") == "RepoNotFound")
            #expect(try await curl(auth + ["\(e)/acme/secret/resolve/main/a.txt"]).text == "a\n")

            // Public repos ignore bad tokens unless asked to reject them like huggingface.co.
            #expect(try await curl(bad + ["\(e)/api/models/acme/tiny-model"]).status == 200)
            hub.rejectInvalidTokens = true
            let rejected = try await curl(bad + ["\(e)/api/models/acme/tiny-model"])
            #expect(rejected.status == 401 && rejected.header("x-error-message") == "Invalid credentials in Authorization header")

            let logged = hub.requests.first { $0.authorization == "Bearer \(FakeHub.Demo.token)" }
            #expect(logged != nil)
        }
    }
}
