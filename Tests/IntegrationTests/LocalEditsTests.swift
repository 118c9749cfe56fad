import Foundation
import HubCore
import HubFakeHub
import HubStore
import HubSync
import Testing

/// `sync --local-dir` never overwrites or removes a file changed since hubmirror wrote it, unless `--force`.
@Suite struct LocalEditsTests {
    static let repo = FakeHub.model("acme/edited")

    func request(_ hub: FakeHub, _ dir: String, force: Bool = false) -> SyncRequest {
        var r = SyncRequest(repo: Self.repo, endpoint: hub.endpoint, location: .localDir(dir), transfer: testTransferOptions())
        r.force = force
        return r
    }

    @Test("An edited file the new revision changes or deletes is refused (44) naming it; --force overwrites and says so")
    func editedFilesAreKept() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let dir = tmp.path + "/tree"
            try hub.commit(Self.repo, files: ["a.txt": "a\n", "b.txt": "b\n", "gone.txt": "gone\n", "same.txt": "same\n"])
            _ = try await runSync(request(hub, dir))
            try FS.writeAtomically(Array("my notes\n".utf8), to: dir + "/a.txt")
            // The same size as before: only its time and content tell it was edited (after the sync).
            try FS.writeAtomically(Array("GONE\n".utf8), to: dir + "/gone.txt")
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: dir + "/gone.txt")
            // Rewritten with the same bytes: touched, not edited.
            try FS.writeAtomically(Array("b\n".utf8), to: dir + "/b.txt")
            try hub.commit(Self.repo, files: ["a.txt": "a2\n", "b.txt": "b2\n"], deleting: ["gone.txt"])

            let e = await hubError { _ = try await runSync(request(hub, dir)) }
            #expect(e?.kind == .localEdits && e?.exitCode == 44)
            #expect(e?.message.contains("a.txt") == true && e?.message.contains("gone.txt") == true && e?.message.contains("--force") == true,
                    "\(e?.message ?? "")")
            #expect(e?.message.contains("b.txt") == false, "\(e?.message ?? "")")
            #expect(FS.readFile(dir + "/a.txt") == Array("my notes\n".utf8) && FS.readFile(dir + "/gone.txt") == Array("GONE\n".utf8))
            #expect(FS.readFile(dir + "/b.txt") == Array("b\n".utf8), "nothing was changed")

            let (rc, _, err) = try await runHubmirror(["sync", "acme/edited", "--endpoint", hub.endpoint, "--local-dir", dir])
            #expect(rc == 44 && err.contains("a.txt"), "\(rc) \(err)")

            let (r, _) = try await runSync(request(hub, dir, force: true))
            #expect(r.overwritten == ["a.txt", "gone.txt"])
            #expect(FS.readFile(dir + "/a.txt") == Array("a2\n".utf8) && !FS.exists(dir + "/gone.txt"))
            #expect(FS.readFile(dir + "/b.txt") == Array("b2\n".utf8))

            // What hubmirror itself wrote is replaced without a word.
            try hub.commit(Self.repo, files: ["a.txt": "a3\n"])
            let (quiet, _) = try await runSync(request(hub, dir))
            #expect(quiet.overwritten == nil && FS.readFile(dir + "/a.txt") == Array("a3\n".utf8))
        }
    }

    @Test("The CLI warns on stderr about what --force overwrote; --force without --local-dir is a usage error")
    func forceWarns() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let dir = tmp.path + "/tree"
            try hub.commit(Self.repo, files: ["a.txt": "a\n"])
            _ = try await runSync(request(hub, dir))
            try FS.writeAtomically(Array("edited\n".utf8), to: dir + "/a.txt")
            try hub.commit(Self.repo, files: ["a.txt": "a2\n"])
            let (rc, _, err) = try await runHubmirror(["sync", "acme/edited", "--endpoint", hub.endpoint, "--local-dir", dir, "--force"])
            #expect(rc == 0 && err.contains("warning: --force overwrote") && err.contains("a.txt"), "\(rc) \(err)")
            let (rcCache, _, errCache) = try await runHubmirror(["sync", "acme/edited", "--endpoint", hub.endpoint, "--cache-dir", tmp.path, "--force"])
            #expect(rcCache == 64 && errCache.contains("--force"), "\(errCache)")
        }
    }
}
