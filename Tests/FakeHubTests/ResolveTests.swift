import Foundation
import HubCore
import HubDigest
import HubFakeHub
import Testing

@Suite struct ResolveTests {
    @Test func headAnswers200WithTheMetadataHeaders() async throws {
        try await withTinyHub(cdn: false) { hub, sha in
            let files = hub.files(tiny, sha)
            let readme = try await curl("-I", "\(hub.endpoint)/acme/tiny/resolve/main/README.md")
            #expect(readme.status == 200)
            #expect(readme.header("etag") == "\"8e2e871357bef652084a73f7173adc5eb8859a33\"")
            #expect(readme.header("x-linked-etag") == readme.header("etag"))
            #expect(readme.header("x-linked-size") == "7" && readme.header("content-length") == "7")
            #expect(readme.header("x-repo-commit") == sha)
            #expect(readme.header("accept-ranges") == "bytes")

            let model = try await curl("-I", "\(hub.endpoint)/acme/tiny/resolve/\(sha)/model.bin")
            #expect(model.header("etag") == "\"\(files["model.bin"]!.sha256)\"")
            #expect(model.header("content-length") == String(bigSize))

            let get = try await curl("\(hub.endpoint)/acme/tiny/resolve/main/model.bin")
            #expect(get.status == 200)
            #expect(get.body == (try bigContent.allBytes()))
            #expect(Digest.hex(.sha256, of: get.body) == files["model.bin"]!.sha256)

            let nested = try await curl("\(hub.endpoint)/acme/tiny/resolve/main/sub/dir/w.bin")
            #expect(nested.body == (try FakeHub.FileContent.pattern(seed: 7, size: 1000).allBytes()))

            let missing = try await curl("-I", "\(hub.endpoint)/acme/tiny/resolve/main/nope.txt")
            #expect(missing.status == 404 && missing.header("x-error-code") == "EntryNotFound" && missing.header("x-repo-commit") == sha)
            let badRev = try await curl("-I", "\(hub.endpoint)/acme/tiny/resolve/nope/README.md")
            #expect(badRev.status == 404 && badRev.header("x-error-code") == "RevisionNotFound")
        }
    }

    @Test func resolvesEveryRepoTypeRevisionAndOddNames() async throws {
        try await FakeHub.withHub(cdn: false) { hub in
            let demo = try hub.loadDemo()
            let e = hub.endpoint
            let odd = try await curl("\(e)/acme/tiny-model/resolve/main/\(PercentEncoding.filePath(FakeHub.Demo.oddFileName))")
            #expect(odd.status == 200 && odd.text == "a file whose name needs percent-encoding\n")
            #expect(hub.requests.last?.filePath == FakeHub.Demo.oddFileName)
            let pr = try await curl("-I", "\(e)/acme/tiny-model/resolve/refs%2Fpr%2F1/pr-file.txt")
            #expect(pr.status == 200 && pr.header("x-repo-commit") == demo.prCommit)
            let rawPR = try await curl("-I", "\(e)/acme/tiny-model/resolve/refs/pr/1/pr-file.txt")
            #expect(rawPR.status == 200 && rawPR.header("x-repo-commit") == demo.prCommit)
            let feature = try await curl("-I", "\(e)/acme/tiny-model/resolve/feature%2Fx/config.json")
            #expect(feature.header("x-repo-commit") == demo.featureCommit)
            let tag = try await curl("-I", "\(e)/acme/tiny-model/resolve/v1.0/old-notes.txt")
            #expect(tag.status == 200 && tag.header("x-repo-commit") == demo.commit1)
            let gone = try await curl("-I", "\(e)/acme/tiny-model/resolve/main/old-notes.txt")
            #expect(gone.status == 404 && gone.header("x-error-code") == "EntryNotFound")
            let csv = try await curl("\(e)/datasets/acme/tiny-data/resolve/main/data/train.csv")
            #expect(csv.text.hasPrefix("id,text,label\n") && csv.header("x-repo-commit") == demo.datasetCommit)
            let app = try await curl("-I", "\(e)/spaces/acme/tiny-space/resolve/main/app.py")
            #expect(app.status == 200 && app.header("x-repo-commit") == demo.spaceCommit)
            let wrongType = try await curl("-I", "\(e)/datasets/acme/tiny-model/resolve/main/README.md")
            #expect(wrongType.header("x-error-code") == "RepoNotFound")
        }
    }

    @Test func singleRanges() async throws {
        try await withTinyHub(cdn: false) { hub, _ in
            let url = "\(hub.endpoint)/acme/tiny/resolve/main/model.bin"
            let total = bigSize
            let cases: [(String, Int64, Int64)] = [
                ("100-199", 100, 199), ("\(total - 10)-", total - 10, total - 1), ("-25", total - 25, total - 1),
                ("5-\(total + 1000)", 5, total - 1), ("0-0", 0, 0), ("-\(total + 5)", 0, total - 1),
            ]
            for (spec, a, b) in cases {
                let r = try await curl("-r", spec, url)
                #expect(r.status == 206, "range \(spec)")
                #expect(r.header("content-range") == "bytes \(a)-\(b)/\(total)", "range \(spec)")
                #expect(r.header("content-length") == String(b - a + 1), "range \(spec)")
                #expect(r.body == (try bigContent.bytes(in: a..<(b + 1))), "range \(spec)")
            }
            let past = try await curl("-r", "\(total)-", url)
            #expect(past.status == 416 && past.header("content-range") == "bytes */\(total)")
            let multi = try await curl("-r", "0-1,5-6", url)
            #expect(multi.status == 200 && multi.body.count == Int(total))
            let head = try await curl("-I", "-r", "10-19", url)
            #expect(head.status == 206 && head.header("content-length") == "10")
        }
    }

    @Test func liveHubStyleRedirects() async throws {
        try await withTinyHub { hub, sha in
            hub.liveHubStyle = true
            let file = hub.files(tiny, sha)["model.bin"]!
            let cdn = try #require(hub.cdnEndpoint)
            #expect(cdn.hasPrefix("http://127.0.0.2:"))

            let small = try await curl("-I", "\(hub.endpoint)/acme/tiny/resolve/main/README.md")
            #expect(small.status == 307)
            let location = try #require(small.header("location"))
            #expect(location.hasPrefix("/api/resolve-cache/models/acme/tiny/\(sha)/README.md?etag="))
            let cached = try await curl("-i", "\(hub.endpoint)\(location)")
            #expect(cached.status == 200 && cached.header("x-repo-commit") == sha)
            #expect(cached.header("etag") == "\"8e2e871357bef652084a73f7173adc5eb8859a33\"")
            let followed = try await curl("-L", "\(hub.endpoint)/acme/tiny/resolve/main/README.md")
            #expect(followed.status == 200 && followed.text == "# tiny\n")

            let big = try await curl("-I", "-H", "Authorization: Bearer t", "\(hub.endpoint)/acme/tiny/resolve/main/model.bin")
            #expect(big.status == 302)
            let cdnURL = try #require(big.header("location"))
            #expect(cdnURL.hasPrefix("\(cdn)/repos/\(file.sha256)?expires="))
            #expect(cdnURL.contains("&sig="))
            #expect(big.header("x-linked-etag") == "\"\(file.sha256)\"")
            #expect(big.header("x-linked-size") == String(bigSize))
            #expect(big.header("x-repo-commit") == sha)
            #expect(big.header("etag") != "\"\(file.sha256)\"")
            #expect(big.header("x-xet-hash")?.count == 64)
            #expect(big.header("link")?.contains("rel=\"xet-auth\"") == true)

            let part = try await curl("-r", "1000-1999", cdnURL)
            #expect(part.status == 206)
            #expect(part.body == (try bigContent.bytes(in: 1000..<2000)))
            let whole = try await curl("-I", cdnURL)
            #expect(whole.status == 200 && whole.header("content-length") == String(bigSize))
            let cdnLog = hub.requests.filter { $0.server == .cdn }
            #expect(cdnLog.count == 2 && cdnLog.allSatisfy { $0.filePath == "model.bin" && $0.authorization == nil })

            let forged = try await curl(cdnURL.replacingOccurrences(of: "&sig=", with: "&sig=00"))
            #expect(forged.status == 403)
            hub.signedURLLifetime = -1
            let expiredURL = try #require(try await curl("-I", "\(hub.endpoint)/acme/tiny/resolve/main/model.bin").header("location"))
            let expired = try await curl(expiredURL)
            #expect(expired.status == 403 && expired.text.contains("Request has expired"))
        }
    }

    @Test func cdnBaseRedirectsLFSFiles() async throws {
        try await withTinyHub(cdn: false) { hub, sha in
            hub.cdnBase = "http://127.0.0.1:9/files/"
            let big = try await curl("-I", "\(hub.endpoint)/acme/tiny/resolve/main/sub/dir/w.bin")
            #expect(big.status == 302)
            #expect(big.header("location") == "http://127.0.0.1:9/files/models/acme/tiny/sub/dir/w.bin")
            #expect(big.header("x-repo-commit") == sha && big.header("x-linked-size") == "1000")
            #expect(big.header("x-xet-hash") == nil)
            let small = try await curl("-I", "\(hub.endpoint)/acme/tiny/resolve/main/README.md")
            #expect(small.status == 200)
        }
    }

    @Test func servesFilesFromDisk() async throws {
        let dir = try TempDir()
        let root = dir.path("repo")
        try FileManager.default.createDirectory(atPath: root + "/nested", withIntermediateDirectories: true)
        let bytes = try FakeHub.FileContent.pattern(seed: 5, size: 2_500_000).allBytes()
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/nested/data.bin"))
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: root + "/hello.txt"))
        try await FakeHub.withHub(cdn: false) { hub in
            let repo = FakeHub.dataset("org/disk")
            let sha = try hub.commitDirectory(root, to: repo)
            #expect(Set(hub.files(repo, sha).keys) == ["hello.txt", "nested/data.bin"])
            #expect(hub.files(repo, sha)["nested/data.bin"]?.sha256 == Digest.hex(.sha256, of: bytes))
            let whole = try await curl("\(hub.endpoint)/datasets/org/disk/resolve/main/nested/data.bin")
            #expect(whole.body == bytes)
            let part = try await curl("-r", "1048570-2097160", "\(hub.endpoint)/datasets/org/disk/resolve/main/nested/data.bin")
            #expect(part.body == Array(bytes[1_048_570...2_097_160]))
            #expect(hub.manifest(repo)?.entries.map(\.path) == ["hello.txt", "nested/data.bin"])
        }
    }
}
