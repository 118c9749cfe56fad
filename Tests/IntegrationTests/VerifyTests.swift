import Foundation
import HubCore
import HubFakeHub
import HubMaintenance
import HubStore
import HubSync
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `verify` finds corrupt, missing and misplaced content; `--repair` fetches exactly that again.
@Suite struct VerifyTests {
    static let repo = FakeHub.model("acme/checked")

    static func populate(_ hub: FakeHub) throws -> String {
        try hub.commit(repo, files: [
            "README.md": "# checked\n",
            "big.bin": .pattern(seed: 3, size: 3 << 20, lfs: true),
            "sub/other.bin": .pattern(seed: 4, size: 1 << 20, lfs: true),
            "config.json": "{\"a\": 1}\n",
        ])
    }

    func sync(_ hub: FakeHub, _ cache: String) async throws {
        _ = try await runSync(SyncRequest(repo: Self.repo, endpoint: hub.endpoint, location: .cache(cache), transfer: testTransferOptions()))
    }

    /// Overwrites one byte of a file in place (blobs may be read-only).
    func flipByte(_ path: String, at offset: Int64) throws {
        chmod(path, 0o644)
        let fd = open(path, O_RDWR)
        #expect(fd >= 0)
        var b: UInt8 = 0
        _ = pread(fd, &b, 1, off_t(offset))
        b ^= 0xFF
        _ = pwrite(fd, &b, 1, off_t(offset))
        close(fd)
    }

    @Test("A healthy store verifies clean; damage is found by kind and named by path, then repaired")
    func findAndRepair() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            try await sync(hub, tmp.path)
            let store = CacheStore(root: tmp.path)
            let verifier = StoreVerifier(store: store)

            let clean = try verifier.verify()
            #expect(clean.isHealthy)
            #expect(clean.blobsChecked == 4)
            #expect(clean.repos.first?.snapshotEntries == 4)

            let manifest = try #require(store.loadManifest(Self.repo, commit: commit))
            func entry(_ path: String) throws -> ManifestEntry { try #require(manifest.entries.first { $0.path == path }) }
            try flipByte(store.blobPath(Self.repo, etag: try entry("big.bin").etag), at: 2_000_000)
            try flipByte(store.blobPath(Self.repo, etag: try entry("config.json").etag), at: 3)
            FS.removeItem(store.blobPath(Self.repo, etag: try entry("sub/other.bin").etag))
            // README.md now links to another file's blob.
            let snap = store.snapshotDirectory(Self.repo, commit: commit)
            try FS.symlinkAtomically(target: "../../blobs/\(try entry("config.json").etag)", at: snap + "/README.md")

            var report = try verifier.verify([Self.repo])
            #expect(!report.isHealthy)
            let findings = try #require(report.repos.first?.findings)
            func kinds(_ path: String) -> [Finding.Kind] { findings.filter { $0.paths.contains("\(commit)/\(path)") }.map(\.kind) }
            #expect(kinds("big.bin") == [.corrupt])
            #expect(kinds("config.json") == [.corrupt])
            #expect(kinds("sub/other.bin") == [.missing])
            #expect(kinds("README.md") == [.misplaced])
            #expect(findings.count == 4)

            hub.clearLog()
            try StoreRepairer(store: store, endpoint: hub.endpoint, token: nil, transfer: testTransferOptions()).repair(&report)
            #expect(report.isHealthy, "\(report.repos.first?.findings ?? [])")
            let fetched = Set(hub.requests.filter { $0.server == .hub && $0.path.contains("/resolve/") }.compactMap { $0.path.split(separator: "/").last.map(String.init) })
            // README.md's own content was never damaged, only its link: relinked, not fetched.
            #expect(fetched == ["big.bin", "config.json", "other.bin"], "exactly the damaged content is fetched again")
            #expect(try verifier.verify().isHealthy)
            try expectSnapshotMatches(hub, Self.repo, commit: commit, cache: tmp.path)
            #expect(FS.listDirectory(store.stateDirectory(Self.repo) + "/quarantine").count == 2, "corrupt blobs are kept aside, not deleted")
        }
    }

    @Test("The CLI exits 33 on damage and 0 once repaired")
    func cliExitCodes() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try Self.populate(hub)
            try await sync(hub, tmp.path)
            let store = CacheStore(root: tmp.path)
            let etag = try #require(store.loadManifest(Self.repo, commit: commit)?.entries.first { $0.path == "big.bin" }?.etag)
            try flipByte(store.blobPath(Self.repo, etag: etag), at: 5)
            let (rc1, out1, err1) = try await run(["verify", "--cache-dir", tmp.path])
            #expect(rc1 == 33, "\(out1)\(err1)")
            #expect(out1.contains("corrupt models/acme/checked blobs/\(etag)") && out1.contains("big.bin"), "\(out1)")
            #expect(err1.contains("--repair"))
            let (rc2, out2, err2) = try await run(["verify", "acme/checked", "--cache-dir", tmp.path, "--repair", "--endpoint", hub.endpoint, "--json"])
            #expect(rc2 == 0, "\(out2)\(err2)")
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(out2.utf8)) as? [String: Any])
            let repos = doc["repos"] as? [[String: Any]] ?? []
            #expect((repos.first?["findings"] as? [[String: Any]])?.first?["repaired"] as? Bool == true)
            let (rc3, _, _) = try await run(["verify", "--cache-dir", tmp.path])
            #expect(rc3 == 0)
            let (rc4, _, err4) = try await run(["verify", "acme/absent", "--cache-dir", tmp.path])
            #expect(rc4 == 10, "\(err4)")
        }
    }

    func run(_ args: [String]) async throws -> (Int32, String, String) { try await runHubmirror(args) }
}
