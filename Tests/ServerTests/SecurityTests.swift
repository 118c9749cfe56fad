import Foundation
import HubCore
import HubServer
import HubStore
import Testing

@Suite("Path safety and access control", .timeLimit(.minutes(2)))
struct SecurityTests {
    /// Plants secrets outside the store, in hubmirror's state folder, in a private repo, and
    /// snapshot links that point at them.
    static func hostileCache() throws -> TestCache {
        let c = try Fixture.standard()
        try c.write("secret.txt", "TOPSECRET-OUTSIDE\n")
        try c.write("hub/models--acme--tiny/.hubmirror/secret.txt", "TOPSECRET-STATE\n")
        let snap = c.store.snapshotDirectory(Fixture.tiny, commit: Fixture.main)
        let secretEtag = Fixture.secretFiles[0].entry.etag
        #expect(symlink("../../../../secret.txt", snap + "/evil-outside.txt") == 0)
        #expect(symlink("../../.hubmirror/secret.txt", snap + "/evil-state.txt") == 0)
        #expect(symlink("../../../models--acme--secret/blobs/\(secretEtag)", snap + "/evil-other-repo.txt") == 0)
        #expect(symlink(c.base, snap + "/evil-dir") == 0)
        // The same links in a snapshot without a manifest (the walked layout).
        let plain = repo("acme/plain")
        try c.add(plain, commit: Fixture.main, files: [FixtureFile("ok.txt", "ok\n")], refs: ["main"], manifest: false)
        let psnap = c.store.snapshotDirectory(plain, commit: Fixture.main)
        #expect(symlink("../../../../secret.txt", psnap + "/evil-outside.txt") == 0)
        #expect(symlink("../../../models--acme--secret/blobs/\(secretEtag)", psnap + "/\(secretEtag)") == 0)
        #expect(symlink(c.base, psnap + "/evil-dir") == 0)
        // A tampered manifest: names that escape, and an etag that is a path.
        let tampered = repo("acme/tampered")
        try c.add(tampered, commit: Fixture.main, files: [FixtureFile("ok.txt", "ok\n")], refs: ["main"])
        var m = try #require(c.store.loadManifest(tampered, commit: Fixture.main))
        m.entries.append(ManifestEntry(path: "../../../secret.txt", size: 18, blobID: "x"))
        m.entries.append(ManifestEntry(path: "via-etag.txt", size: 18, blobID: "../../../../secret.txt"))
        try c.store.saveManifest(m)
        #expect(symlink("../../../../secret.txt", c.store.snapshotDirectory(tampered, commit: Fixture.main) + "/via-etag.txt") == 0)
        return c
    }

    @Test("Traversal attempts on every route never leave the store")
    func traversal() async throws {
        let cache = try Self.hostileCache()
        let m = Fixture.main
        let targets = [
            "/acme/tiny/resolve/main/../../../secret.txt",
            "/acme/tiny/resolve/main/%2e%2e/%2e%2e/%2e%2e/secret.txt",
            "/acme/tiny/resolve/main/..%2F..%2F..%2Fsecret.txt",
            "/acme/tiny/resolve/main/.%2e/.hubmirror/secret.txt",
            "/acme/tiny/resolve/main/README.md%00.txt",
            "/acme/tiny/resolve/main/..%5C..%5C..%5Csecret.txt",
            "/acme/tiny/resolve/main/..\\..\\secret.txt",
            "/acme/tiny/resolve/main//etc/passwd",
            "/acme/tiny/resolve/main/%2Fetc%2Fpasswd",
            "/acme/tiny/resolve/main/evil-outside.txt",
            "/acme/tiny/resolve/main/evil-state.txt",
            "/acme/tiny/resolve/main/evil-other-repo.txt",
            "/acme/tiny/resolve/main/evil-dir/secret.txt",
            "/acme/tiny/resolve/..%2F..%2F.hubmirror/secret.txt",
            "/acme/tiny/resolve/%2e%2e/%2e%2e/.hubmirror/secret.txt",
            "/acme/tiny/resolve/..%2F..%2F..%2F..%2Fsecret.txt/x",
            "/acme/tiny/resolve/\(m)%2F..%2F..%2F..%2F..%2Fsecret.txt/x",
            "/acme/tiny/resolve/refs%2F..%2F..%2F.hubmirror%2Fsecret.txt/README.md",
            "/acme/plain/resolve/main/evil-outside.txt",
            "/acme/plain/resolve/main/\(Fixture.secretFiles[0].entry.etag)",
            "/acme/plain/resolve/main/evil-dir/secret.txt",
            "/acme/tampered/resolve/main/via-etag.txt",
            "/acme/tampered/resolve/main/..%2F..%2F..%2Fsecret.txt",
            "/acme/..%2F..%2Fsecret.txt/resolve/main/x",
            "/%2e%2e/%2e%2e/resolve/main/secret.txt",
            "/../../secret.txt",
            "/hub/../secret.txt",
            "/api/models/acme/tiny/revision/..%2F..%2F.hubmirror%2Fsecret.txt",
            "/api/models/acme/tiny/revision/../../.hubmirror/secret.txt",
            "/api/models/acme/tiny/revision/%00",
            "/api/models/..%2F..%2Fsecret.txt/revision/main",
            "/api/models/../secret.txt",
            "/api/models/acme/tiny/tree/main/..%2F..",
            "/api/models/acme/tiny/tree/main/%2e%2e/%2e%2e",
            "/api/models/acme/tiny/tree/main/evil-dir",
            "/api/models/acme/tiny/tree/..%2F..%2F.hubmirror/",
            "/api/models/acme/tiny/commits/..%2F..%2F.hubmirror%2Fsecret.txt",
            "/api/models/..%2Facme/tiny/refs",
        ]
        try await withServer(cache) { s in
            for t in targets {
                for method in ["GET", "HEAD"] {
                    let r = try await http(s.url + t, method: method)
                    #expect(r.status >= 400, "\(method) \(t): \(r)")
                    #expect(!r.text.contains("TOPSECRET"), "\(method) \(t)")
                }
            }
            let body = "paths=..%2F..%2F..%2Fsecret.txt&paths=evil-outside.txt&paths=evil-dir%2Fsecret.txt&paths=%2Fetc%2Fpasswd&paths=evil-other-repo.txt"
            let pi = try await http(s.url + "/api/models/acme/tiny/paths-info/main", method: "POST", body: body)
            #expect(pi.status == 200)
            #expect(pi.array.isEmpty, "\(pi)")
            for repoPath in ["acme/tiny", "acme/plain", "acme/tampered"] {
                let tree = try await http(s.url + "/api/models/\(repoPath)/tree/main?recursive=true")
                let paths = tree.array.compactMap { $0["path"] as? String }
                #expect(!paths.contains { $0.contains("evil") || $0.contains("..") || $0.contains("via-etag") }, "\(repoPath): \(paths)")
                let info = try await http(s.url + "/api/models/\(repoPath)")
                #expect(!info.text.contains("evil"), "\(repoPath)")
            }
        }
    }

    @Test("Gated and private repos need a configured token; unknown tokens count as none")
    func tokens() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache) { s in
            let gatedURLs = [
                "/api/models/acme/gated", "/api/models/acme/gated/revision/main", "/api/models/acme/gated/tree/main",
                "/api/models/acme/gated/refs", "/acme/gated/resolve/main/train.csv",
            ]
            for u in gatedURLs {
                for method in ["GET", "HEAD"] {
                    expectHubError(try await http(s.url + u, method: method), 403, "GatedRepo")
                    expectHubError(try await http(s.url + u, method: method, headers: ["Authorization: Bearer wrong"]), 403, "GatedRepo")
                    #expect(try await http(s.url + u, method: method, headers: ["Authorization: Bearer sekrit-token"]).status == 200, "\(u)")
                }
            }
            expectHubError(try await http(s.url + "/api/models/acme/gated/paths-info/main", method: "POST", body: "paths=train.csv"), 403, "GatedRepo")
            let info = try await http(s.url + "/api/models/acme/gated", headers: ["Authorization: Bearer sekrit-token"])
            #expect(info.object["gated"] as? String == "manual")

            let privateURLs = ["/api/models/acme/secret", "/api/models/acme/secret/tree/main", "/acme/secret/resolve/main/secret.txt"]
            for u in privateURLs {
                let r = try await http(s.url + u)
                expectHubError(r, 401, "RepoNotFound")
                #expect(!r.text.contains("TOPSECRET"))
                expectHubError(try await http(s.url + u, headers: ["Authorization: Bearer wrong"]), 401, "RepoNotFound")
                #expect(try await http(s.url + u, headers: ["Authorization: Bearer sekrit-token"]).status == 200)
            }
            let ok = try await http(s.url + "/acme/secret/resolve/main/secret.txt", headers: ["Authorization: Bearer sekrit-token"])
            #expect(ok.text == "TOPSECRET-PRIVATE\n")
            let priv = try await http(s.url + "/api/models/acme/secret", headers: ["Authorization: Bearer sekrit-token"])
            #expect(priv.object["private"] as? Bool == true)
            // Public repos ignore whatever token comes along.
            #expect(try await http(s.url + "/acme/tiny/resolve/main/README.md", headers: ["Authorization: Bearer hf_whatever"]).status == 200)
        }
        try await withServer(cache, configure: { $0.tokens = [] }) { s in
            expectHubError(try await http(s.url + "/api/models/acme/gated", headers: ["Authorization: Bearer sekrit-token"]), 403, "GatedRepo")
            expectHubError(try await http(s.url + "/api/models/acme/secret", headers: ["Authorization: Bearer "]), 401, "RepoNotFound")
        }
    }

    @Test("The allow-list hides every other repo as RepoNotFound")
    func allowList() async throws {
        let cache = try Fixture.standard()
        try await withServer(cache, configure: { $0.allow = ["acme/t*", "datasets/acme/*"] }) { s in
            #expect(try await http(s.url + "/api/models/acme/tiny").status == 200)
            #expect(try await http(s.url + "/datasets/acme/data/resolve/main/train.csv").status == 200)
            let auth = ["Authorization: Bearer sekrit-token"]
            for u in ["/api/models/acme/gated", "/acme/gated/resolve/main/train.csv", "/api/spaces/acme/app",
                      "/spaces/acme/app/resolve/main/app.py", "/api/models/gpt9/refs", "/api/models/acme/secret/tree/main"] {
                expectHubError(try await http(s.url + u, headers: auth), 401, "RepoNotFound")
            }
        }
    }
}
