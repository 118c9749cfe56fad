import Foundation
import HubCore
import HubDigest
import HubServer
import HubStore
import Testing

@Suite("File resolve", .timeLimit(.minutes(2)))
struct ResolveTests {
    @Test("HEAD headers the client needs, GET bytes, for every file and revision spelling")
    func headAndGet() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache) { s in
            for f in Fixture.files where Fixture.linked.contains(f.path) {
                let e = f.entry
                let url = s.url + "/acme/tiny/resolve/main/" + PercentEncoding.filePath(f.path)
                let h = try await http(url, method: "HEAD")
                #expect(h.status == 200, "\(f.path): \(h)")
                #expect(h.header("ETag") == "\"\(e.etag)\"")
                #expect(h.header("X-Linked-Etag") == "\"\(e.etag)\"")
                #expect(h.header("X-Linked-Size") == String(e.size))
                #expect(h.header("Content-Length") == String(e.size))
                #expect(h.header("X-Repo-Commit") == Fixture.main)
                #expect(h.header("Accept-Ranges") == "bytes")
                #expect(h.header("Location") == nil)
                #expect(!h.headers.contains { $0.name.lowercased().hasPrefix("x-xet") })
                let g = try await http(url)
                #expect(g.status == 200)
                #expect(g.sha256 == f.sha256, "\(f.path)")
                #expect(g.header("Content-Length") == String(e.size))
                #expect(g.header("Content-Encoding") == nil)
            }
            let spellings: [(String, String, String)] = [
                ("/acme/tiny/resolve/\(Fixture.main)/README.md", Fixture.main, "# tiny\n"),
                ("/acme/tiny/resolve/v1.0/README.md", Fixture.main, "# tiny\n"),
                ("/acme/tiny/resolve/feature%2Fx/README.md", Fixture.feature, "# tiny, feature branch\n"),
                ("/acme/tiny/resolve/feature/x/README.md", Fixture.feature, "# tiny, feature branch\n"),
                ("/acme/tiny/resolve/refs%2Fpr%2F1/README.md", Fixture.pr, "# tiny, PR 1\n"),
                ("/acme/tiny/resolve/refs/pr/1/README.md", Fixture.pr, "# tiny, PR 1\n"),
                ("/gpt9/resolve/main/train.csv", Fixture.main, "a,b\n1,2\n"),
                ("/datasets/acme/data/resolve/main/train.csv", Fixture.main, "a,b\n1,2\n"),
                ("/spaces/acme/app/resolve/main/app.py", Fixture.main, "print('hi')\n"),
                ("/acme/tiny/resolve/main/odd%20name%20%26%20%231%3F.txt", Fixture.main, "odd\n"),
                ("/acme/tiny/resolve/main/%C3%BCn%C3%AF/c%C3%B8d%C3%A9.txt", Fixture.main, "unicode\n"),
                ("/acme/tiny/resolve/main/sub%2Fnotes.txt", Fixture.main, "notes\n"),
            ]
            for (path, commit, text) in spellings {
                let r = try await http(s.url + path)
                #expect(r.status == 200, "\(path): \(r)")
                #expect(r.text == text, "\(path)")
                #expect(r.header("X-Repo-Commit") == commit, "\(path)")
            }
        }
    }

    @Test("Ranges: a-b, a-, -n, clamped end, 416 past the end, ignored multi-range")
    func ranges() async throws {
        let cache = try Fixture.standard()
        let content = Fixture.files.first { $0.path == "model.bin" }!.content
        try await withServer(cache) { s in
            let url = s.url + "/acme/tiny/resolve/\(Fixture.main)/model.bin"
            let cases: [(String, ClosedRange<Int>)] = [
                ("bytes=0-0", 0...0), ("bytes=10-99", 10...99), ("bytes=4000-", 4000...4095),
                ("bytes=-10", 4086...4095), ("bytes=100-999999", 100...4095), ("bytes=-99999", 0...4095),
                ("bytes=4095-4095", 4095...4095),
            ]
            for (spec, r) in cases {
                for method in ["GET", "HEAD"] {
                    let res = try await http(url, method: method, headers: ["Range: \(spec)"])
                    #expect(res.status == 206, "\(spec) \(method)")
                    #expect(res.header("Content-Range") == "bytes \(r.lowerBound)-\(r.upperBound)/4096", "\(spec)")
                    #expect(res.header("Content-Length") == String(r.count), "\(spec)")
                    if method == "GET" { #expect(res.body == Array(content[r]), "\(spec)") }
                }
            }
            for spec in ["bytes=4096-", "bytes=5000-6000", "bytes=-0"] {
                let res = try await http(url, headers: ["Range: \(spec)"])
                #expect(res.status == 416, "\(spec)")
                #expect(res.header("Content-Range") == "bytes */4096", "\(spec)")
                #expect(res.body.isEmpty)
            }
            for spec in ["bytes=0-1,5-6", "bytes=9-3", "lines=1-2"] {
                let res = try await http(url, headers: ["Range: \(spec)"])
                #expect(res.status == 200, "\(spec)")
                #expect(res.body == content)
            }
            let empty = try await http(s.url + "/acme/tiny/resolve/main/empty.txt")
            #expect(empty.status == 200 && empty.body.isEmpty && empty.header("Content-Length") == "0")
            let emptyRange = try await http(s.url + "/acme/tiny/resolve/main/empty.txt", headers: ["Range: bytes=0-"])
            #expect(emptyRange.status == 416)
        }
    }

    @Test("Files over 50 GB: HEAD carries no size, GET streams ranges")
    func hugeFile() async throws {
        let cache = try TestCache()
        let r = repo("acme/huge")
        let size: Int64 = 50_000_000_001
        let sha = String(repeating: "ab", count: 32)
        let blob = cache.store.blobPath(r, etag: sha)
        try FS.mkdirs((blob as NSString).deletingLastPathComponent)
        let fd = open(blob, O_CREAT | O_WRONLY, 0o644)
        #expect(fd >= 0)
        #expect(ftruncate(fd, off_t(size)) == 0)   // sparse: no disk used
        close(fd)
        let snap = cache.store.snapshotDirectory(r, commit: Fixture.main)
        try FS.mkdirs(snap)
        #expect(symlink("../../blobs/\(sha)", snap + "/huge.bin") == 0)
        let pointer = ContentHasher.lfsPointer(sha256: sha, size: size)
        try cache.store.saveManifest(Manifest(repo: r, commit: Fixture.main, entries: [
            ManifestEntry(path: "huge.bin", size: size, blobID: ContentHasher.gitBlobID(of: Array(pointer.utf8)),
                          lfs: LFSInfo(sha256: sha, size: size, pointerSize: Int64(pointer.utf8.count))),
        ]))
        try cache.store.writeRef(r, revision: "main", commit: Fixture.main)
        try await withServer(cache) { s in
            let url = s.url + "/acme/huge/resolve/main/huge.bin"
            let h = try await http(url, method: "HEAD")
            #expect(h.status == 200)
            #expect(h.header("X-Linked-Size") == nil)
            #expect(h.header("Content-Length") == nil)
            #expect(h.header("ETag") == "\"\(sha)\"")
            #expect(h.header("X-Repo-Commit") == Fixture.main)
            let tail = try await http(url, headers: ["Range: bytes=-16"])
            #expect(tail.status == 206)
            #expect(tail.header("Content-Range") == "bytes \(size - 16)-\(size - 1)/\(size)")
            #expect(tail.body == [UInt8](repeating: 0, count: 16))
            let tree = try await http(s.url + "/api/models/acme/huge/tree/main")
            #expect(tree.array.first?["size"] as? Int64 == size)
        }
    }

    @Test("Missing and filtered-out files: EntryNotFound with X-Repo-Commit")
    func entryNotFound() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache) { s in
            for path in ["/acme/tiny/resolve/main/nope.txt", "/acme/tiny/resolve/main/extra/not-synced.bin",
                         "/acme/tiny/resolve/main/sub", "/acme/tiny/resolve/refs%2Fpr%2F1/model.bin"] {
                for method in ["GET", "HEAD"] {
                    let r = try await http(s.url + path, method: method)
                    expectHubError(r, 404, "EntryNotFound")
                    #expect(r.header("X-Repo-Commit")?.count == 40, "\(path)")
                }
            }
            expectHubError(try await http(s.url + "/acme/tiny/resolve/nope/README.md"), 404, "RevisionNotFound")
            expectHubError(try await http(s.url + "/acme/tiny/resolve/nope/README.md", method: "HEAD"), 404, "RevisionNotFound")
            expectHubError(try await http(s.url + "/acme/nope/resolve/main/README.md"), 401, "RepoNotFound")
            expectHubError(try await http(s.url + "/datasets/acme/tiny/resolve/main/README.md"), 401, "RepoNotFound")
            #expect(try await http(s.url + "/acme/tiny/resolve/main/README.md", method: "POST", body: "").status == 405)
        }
    }

    @Test("Snapshots without a hubmirror manifest (official client layout) are served")
    func officialLayout() async throws {
        let cache = try TestCache()
        let r = repo("acme/plain")
        try cache.add(r, commit: Fixture.main, files: Fixture.files, refs: ["main"], manifest: false)
        try await withServer(cache) { s in
            let tree = try await http(s.url + "/api/models/acme/plain/tree/main?recursive=true")
            let files = tree.array.filter { $0["type"] as? String == "file" }
            #expect(files.count == Fixture.files.count)
            for f in files {
                let e = Fixture.files.first { $0.path == f["path"] as? String }!.entry
                #expect(f["oid"] as? String == e.blobID, "pointer blob ids are recomputed")
                #expect((f["lfs"] as? [String: Any])?["pointerSize"] as? Int == e.lfs.map { Int($0.pointerSize) })
            }
            let g = try await http(s.url + "/acme/plain/resolve/main/sub/dir/w.bin")
            #expect(g.sha256 == Fixture.files.first { $0.path == "sub/dir/w.bin" }!.sha256)
        }
    }

    @Test("A sync publishing while serving: new refs and links are seen, old snapshots stay served")
    func livePublish() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache) { s in
            #expect(try await http(s.url + "/acme/tiny/resolve/main/README.md").text == "# tiny\n")
            expectHubError(try await http(s.url + "/acme/tiny/resolve/main/extra/not-synced.bin"), 404, "EntryNotFound")
            // A second sync completes the filtered snapshot: links first, manifest rewritten.
            try cache.add(Fixture.tiny, commit: Fixture.main, files: Fixture.files)
            let g = try await http(s.url + "/acme/tiny/resolve/main/extra/not-synced.bin")
            #expect(g.status == 200)
            #expect(g.sha256 == Fixture.files.last!.sha256)
            // A new commit for main: snapshot first, ref last.
            let next = [FixtureFile("README.md", "# tiny v2\n")]
            try cache.add(Fixture.tiny, commit: Fixture.other, files: next, refs: ["main"])
            #expect(try await http(s.url + "/acme/tiny/resolve/main/README.md").text == "# tiny v2\n")
            #expect(try await http(s.url + "/api/models/acme/tiny/revision/main").object["sha"] as? String == Fixture.other)
            #expect(try await http(s.url + "/acme/tiny/resolve/\(Fixture.main)/README.md").text == "# tiny\n")
        }
    }

    @Test("Concurrent downloads and ranged reads all get the right bytes")
    func concurrent() async throws {
        let cache = try Fixture.standard()
        let file = Fixture.files.first { $0.path == "sub/dir/w.bin" }!
        try await withServer(cache) { s in
            let url = s.url + "/acme/tiny/resolve/main/sub/dir/w.bin"
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<24 {
                    group.addTask {
                        if i % 2 == 0 { return try await http(url).sha256 == file.sha256 }
                        let r = try await http(url, headers: ["Range: bytes=\(i * 100)-\(i * 100 + 99)"])
                        return r.status == 206 && r.body == Array(file.content[(i * 100)..<(i * 100 + 100)])
                    }
                }
                for try await ok in group { #expect(ok) }
            }
        }
    }
}
