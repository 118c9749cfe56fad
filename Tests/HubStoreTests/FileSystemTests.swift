import Testing
import Foundation
import HubCore
import HubStore
#if canImport(Glibc)
import Glibc
#endif

@Suite struct FileLockTests {
    @Test func secondLockThrowsLockHeldNamingThePid() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("state/lock")
        let first = try FileLock(path: path, what: "repo acme/tiny")
        #expect(readText(path) == "\(getpid())\n")
        let error = #expect(throws: HubError.self) { _ = try FileLock(path: path, what: "repo acme/tiny") }
        #expect(error?.kind == .lockHeld)
        #expect(error?.exitCode == 50)
        #expect(error?.message.contains("pid \(getpid())") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("repo acme/tiny") == true)
        #expect(error?.isRetryable == false)
        first.unlock()
        let again = try FileLock(path: path, what: "repo acme/tiny")
        again.unlock()
    }

    @Test func releasedOnDeinit() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("lock")
        do { _ = try FileLock(path: path, what: "x") }
        let l = try FileLock(path: path, what: "x")
        #expect(l.path == path)
        l.unlock()
        l.unlock()  // idempotent
    }

    @Test func targetLocksAreIndependentPerRepo() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = CacheStore(root: tmp.sub("hub"))
        let other = RepoRef(type: .dataset, id: try RepoID("acme/tiny"))
        let l1 = try store.target(repo).lock()
        let l2 = try store.target(other).lock()
        #expect(throws: HubError.self) { _ = try store.target(repo).lock() }
        l1.unlock()
        l2.unlock()
    }
}

@Suite struct FSTests {
    @Test(arguments: [
        ("/c/models--x/snapshots/s", "/c/models--x/blobs/e", "../../blobs/e"),
        ("/c/models--x/snapshots/s/sub/dir", "/c/models--x/blobs/e", "../../../../blobs/e"),
        ("/a/b", "/a/b/c/d", "c/d"),
        ("/a/b/c", "/x/y", "../../../x/y"),
        ("/", "/a", "a"),
        ("/a/bc", "/a/b/c", "../b/c"),
    ])
    func relativePath(_ from: String, _ to: String, _ expected: String) {
        #expect(FS.relativePath(from: from, to: to) == expected)
    }

    @Test func writeAtomicallyLeavesNoTempFiles() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("deep/er/file.json")
        try FS.writeAtomically(Array("one".utf8), to: path)
        try FS.writeAtomically(Array("two!".utf8), to: path)
        #expect(readText(path) == "two!")
        #expect(FS.listDirectory(tmp.sub("deep/er")) == ["file.json"])
        #expect(FS.fileSize(path) == 4)
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        let mode = try #require(attrs[.posixPermissions] as? Int)
        #expect(mode & 0o600 == 0o600, "owner can read and write")
        #expect(mode & 0o133 == 0, "never executable, never group/other writable (mode 0644 before umask)")
    }

    @Test func writeAtomicallyFailureCleansUp() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        // The destination is a non-empty directory: rename fails, the temp file must go.
        try FileManager.default.createDirectory(atPath: tmp.sub("dest/inner"), withIntermediateDirectories: true)
        let error = #expect(throws: HubError.self) { try FS.writeAtomically(Array("x".utf8), to: tmp.sub("dest")) }
        #expect(error != nil)
        #expect(FS.listDirectory(tmp.path) == ["dest"])
    }

    @Test func mkdirsCreatesParentsAndIsIdempotent() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        try FS.mkdirs(tmp.sub("a/b/c"))
        try FS.mkdirs(tmp.sub("a/b/c"))
        #expect(FS.isDirectory(tmp.sub("a/b/c")))
    }

    @Test func mkdirsOverARegularFileThrows() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        try writeText("x", to: tmp.sub("file"))
        #expect(throws: HubError.self) { try FS.mkdirs(tmp.sub("file")) }
        #expect(throws: HubError.self) { try FS.mkdirs(tmp.sub("file/sub")) }
        #expect(!FS.isDirectory(tmp.sub("file")))
    }

    @Test func symlinkAtomicallyReplaces() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        try FS.symlinkAtomically(target: "one", at: tmp.sub("d/link"))
        try FS.symlinkAtomically(target: "two", at: tmp.sub("d/link"))
        #expect(FS.readLink(tmp.sub("d/link")) == "two")
        #expect(FS.listDirectory(tmp.sub("d")) == ["link"])
        #expect(FS.readLink(tmp.sub("d")) == nil)
    }

    @Test func linkOrCopyAndSizes() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        try writeText("hello", to: tmp.sub("src"))
        try FS.linkOrCopy(tmp.sub("src"), tmp.sub("x/dst"))
        #expect(readText(tmp.sub("x/dst")) == "hello")
        #expect(FS.listDirectory(tmp.sub("x")) == ["dst"])
        #expect(FS.fileSize(tmp.sub("x")) == nil, "a folder has no file size")
        #expect(FS.fileSize(tmp.sub("nothing")) == nil)
        #expect(FS.isDirectory(tmp.sub("x")))
        #expect(!FS.isDirectory(tmp.sub("src")))
        try FileManager.default.createSymbolicLink(atPath: tmp.sub("dangling"), withDestinationPath: "missing")
        #expect(FS.exists(tmp.sub("dangling")), "exists does not follow links")
        #expect(FS.fileSize(tmp.sub("dangling")) == nil)
    }

    @Test func errnoMapping() {
        #expect(FS.error("write", "/p", errno: ENOSPC).kind == .diskFull)
        #expect(FS.error("write", "/p", errno: EROFS).kind == .readOnly)
        #expect(FS.error("write", "/p", errno: EACCES).kind == .readOnly)
        let other = FS.error("write", "/some/path", errno: EIO)
        #expect(other.kind == .store)
        #expect(other.message.contains("/some/path"))
    }
}

/// `FS.standardize`, the stores' root paths, gives what Foundation's `standardizingPath` gives.
@Suite struct StandardizePathTests {
    @Test func matchesFoundationOnTildesDotsSymlinksAndMissingTails() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let real = tmp.sub("real")
        try FS.mkdirs(real)
        #expect(symlink(real, tmp.sub("link")) == 0)
        let inputs = [tmp.sub("link"), tmp.sub("link") + "/", tmp.path + "//./real/../link", tmp.sub("link/missing/y"),
                      tmp.sub("link/missing/../y"), tmp.sub("link/.."), "/no/such/dir/a", "/..", "/", "rel/./x/", "a/../b",
                      "~", "~/cache", "", ".", "./"]
        for p in inputs {
            #expect(FS.standardize(p) == (p as NSString).standardizingPath, "\(p)")
        }
    }
}
