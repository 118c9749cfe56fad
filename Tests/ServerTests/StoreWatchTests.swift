import Foundation
import HubCore
@testable import HubServer
import HubStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The inotify watch of the store (issue #13): a change made by any writer, here plain file
/// operations as another tool would make them, is seen by the very next request, with the watch and,
/// for every change the facts capture, without it (`HUBMIRROR_SERVE_WATCH=0`). No waiting: the kernel
/// queues an event before the call that made the change returns, and every request drains the queue.
@Suite("Store watch", .timeLimit(.minutes(3)))
struct StoreWatchTests {
    static let watched = repo("acme/watched")
    static let main = Fixture.main
    static let other = Fixture.other
    static let files: [FixtureFile] = [
        FixtureFile("a.txt", "alpha\n"),
        FixtureFile("config.json", #"{"n": 1}"#),
        FixtureFile("late.txt", "late at the top\n"),
        FixtureFile("deep/x.txt", "x\n"),
        FixtureFile("deep/late.bin", bytes: pattern(500, seed: 5), lfs: true),
        FixtureFile("new/dir/late.bin", bytes: pattern(700, seed: 6), lfs: true),
    ]
    /// Files in the manifest whose snapshot links come later, from the "foreign writer".
    static let unlinked: Set<String> = ["late.txt", "deep/late.bin", "new/dir/late.bin"]

    static func cache() throws -> TestCache {
        let c = try TestCache()
        try c.add(watched, commit: main, files: files, refs: ["main"], linked: Set(files.map(\.path)).subtracting(unlinked))
        try c.add(watched, commit: other, files: [FixtureFile("a.txt", "other\n")], refs: ["v2"])
        try c.setInfo(RepoInfo(repo: watched, isPrivate: false))
        return c
    }

    static let calls: [WarmAnswersTests.Call] = {
        var c: [WarmAnswersTests.Call] = []
        for method in ["GET", "HEAD"] {
            for f in files.map(\.path) { c.append(.init(method: method, path: "/acme/watched/resolve/main/\(f)")) }
            c.append(.init(method: method, path: "/api/models/acme/watched/revision/main"))
            c.append(.init(method: method, path: "/api/models/acme/watched/revision/main?blobs=true"))
        }
        c.append(.init(path: "/api/models/acme/watched/tree/main?recursive=true"))
        return c
    }()

    /// Links `path` of the snapshot to its blob, as huggingface_hub does after a download.
    static func link(_ c: TestCache, _ path: String) throws {
        let e = files.first { $0.path == path }!.entry
        let snap = c.store.snapshotDirectory(watched, commit: main)
        let dir = ((snap + "/" + path) as NSString).deletingLastPathComponent
        guard symlink(FS.relativePath(from: dir, to: c.store.blobPath(watched, etag: e.etag)), snap + "/" + path) == 0 else {
            throw HubError(.store, "symlink \(path)")
        }
    }

    static func mkdir(_ c: TestCache, _ rel: String) throws {
        let snap = c.store.snapshotDirectory(watched, commit: main)
        guard Glibc.mkdir(snap + "/" + rel, 0o755) == 0 else { throw HubError(.store, "mkdir \(rel)") }
    }

    /// Rewrites the ref file in place (same size, no rename): only its content and mtime change.
    static func rewriteRef(_ c: TestCache, _ commit: String) throws {
        let fd = open(c.store.repoDirectory(watched) + "/refs/main", O_WRONLY)
        guard fd >= 0 else { throw HubError(.store, "open ref") }
        defer { close(fd) }
        let n = Array(commit.utf8).withUnsafeBytes { pwrite(fd, $0.baseAddress, 40, 0) }
        guard n == 40 else { throw HubError(.store, "pwrite ref") }
    }

    struct Change: Sendable {
        var what: String
        /// Only the watch sees it (no stamp of a folder the facts check changes).
        var watchOnly = false
        /// The call whose answer the change must alter, and the status it must have after.
        var path: String
        var status: Int
        var make: @Sendable (TestCache) throws -> Void
    }

    static let changes: [Change] = [
        Change(what: "main rewritten in place to another commit", path: "/acme/watched/resolve/main/config.json", status: 404) { c in
            try rewriteRef(c, other)
        },
        Change(what: "main rewritten in place back", path: "/acme/watched/resolve/main/config.json", status: 200) { c in
            try rewriteRef(c, main)
        },
        Change(what: "a file linked at the top of the snapshot", path: "/acme/watched/resolve/main/late.txt", status: 200) { c in
            try link(c, "late.txt")
        },
        Change(what: "a file linked in a folder the snapshot had", watchOnly: true, path: "/acme/watched/resolve/main/deep/late.bin", status: 200) { c in
            try link(c, "deep/late.bin")
        },
        Change(what: "a new folder in the snapshot", path: "/acme/watched/resolve/main/new/dir/late.bin", status: 404) { c in
            try mkdir(c, "new")
        },
        Change(what: "a folder in the new folder, then a file in it", watchOnly: true, path: "/acme/watched/resolve/main/new/dir/late.bin", status: 200) { c in
            try mkdir(c, "new/dir")
            try link(c, "new/dir/late.bin")
        },
        Change(what: "a blob deleted", path: "/acme/watched/resolve/main/a.txt", status: 404) { c in
            let e = files.first { $0.path == "a.txt" }!.entry
            guard unlink(c.store.blobPath(watched, etag: e.etag)) == 0 else { throw HubError(.store, "unlink") }
        },
        Change(what: "repo-info.json replaced: private", path: "/api/models/acme/watched/revision/main", status: 401) { c in
            // Another program's write: a new file renamed over the old one.
            let path = c.store.repoInfoPath(watched)
            var info = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            info["isPrivate"] = true
            try JSONSerialization.data(withJSONObject: info).write(to: URL(fileURLWithPath: path + ".tmp"))
            guard rename(path + ".tmp", path) == 0 else { throw HubError(.store, "rename") }
        },
        Change(what: "repo-info.json replaced: public again", path: "/api/models/acme/watched/revision/main", status: 200) { c in
            try c.setInfo(RepoInfo(repo: watched, isPrivate: false))
        },
        Change(what: "the snapshot removed with rm -rf", path: "/api/models/acme/watched/revision/main", status: 404) { c in
            try FileManager.default.removeItem(atPath: c.store.snapshotDirectory(watched, commit: main))
        },
    ]

    /// Warms a server on every call, makes each change, and compares every call's next answer with
    /// a fresh server's.
    func followChanges(watch: Bool) async throws {
        let cache = try Self.cache()
        try await withServer(cache, configure: { $0.watchStore = watch }) { warm in
            for change in Self.changes where watch || !change.watchOnly {
                for a in try await WarmAnswersTests.afterChange(warm, cache, Self.calls, { try change.make(cache) }) {
                    #expect(a.warm == a.fresh, "after \(change.what): \(a.call)")
                }
                let r = try await http(warm.url + change.path)
                #expect(r.status == change.status, "after \(change.what): \(r)")
            }
        }
    }

    @Test("a foreign writer's change is seen by the very next request")
    func foreignWriter() async throws { try await followChanges(watch: true) }

    @Test("with the watch switched off, every change the facts capture is seen by the very next request")
    func withoutWatch() async throws { try await followChanges(watch: false) }

    @Test("a kernel queue overflow (events lost) puts the repo back on fact checks, then it is watched again")
    func realOverflow() async throws {
        let cache = try Self.cache()
        let index = StoreIndex(store: cache.store, watch: true)
        let answers = AnswerCache()
        let watch = try #require(index.watch)
        let folder = Self.watched.cacheFolderName
        let key = AnswerCache.Key(isHead: false, target: "/t", host: "h", range: nil, hasToken: false)
        func keep() async throws {
            let seen = StoreFacts()
            _ = index.commit(Self.watched, revision: "main", seen: seen)
            _ = try await index.view(Self.watched, commit: Self.main, seen: seen)
            answers.keep(key, response: HubHTTPError.notFound().response(), label: "t", facts: seen, index: index)
        }
        try await keep()
        try await keep()   // the first keep set the watch up and dropped the view it was built from
        _ = try #require(answers.answer(key, index: index))
        #expect(answers.answer(key, index: index)?.stamp != nil)
        // More events than the queue holds (alternating, so that the kernel cannot merge them), nobody
        // draining; then main moves: its event is lost with the others.
        let ref = cache.store.repoDirectory(Self.watched) + "/refs/main"
        let limit = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16384
        for _ in 0...(limit / 2 + 10) {
            try Self.rewriteRef(cache, Self.main)   // IN_MODIFY
            guard chmod(ref, 0o644) == 0 else { throw HubError(.store, "chmod") }   // IN_ATTRIB
        }
        try Self.rewriteRef(cache, Self.other)
        #expect(watch.generations([folder], watching: false) == nil, "an overflow must leave the repo unwatched")
        #expect(answers.answer(key, index: index) == nil, "the ref fact must be checked and fail")
        // Set up again at its next use.
        #expect(watch.generations([folder], watching: true) != nil)
    }

    @Test("folders on network file systems are not watched: the mount table, longest mount point first")
    func mounts() {
        let table = """
        22 1 0:21 / / rw,relatime - overlay overlay rw
        30 22 0:40 / /srv/hub rw - nfs4 server:/export rw
        31 30 0:41 / /srv/hub/local\\040disk rw - ext4 /dev/sdb rw
        32 22 0:42 / /mnt/s3 rw - fuse.s3fs s3fs rw
        """
        #expect(MountKind.type(ofRealPath: "/srv/hub/models--a--b", in: table) == "nfs4")
        #expect(MountKind.type(ofRealPath: "/srv/hub/local disk/x", in: table) == "ext4")
        #expect(MountKind.type(ofRealPath: "/srv/hubby", in: table) == "overlay")
        #expect(MountKind.type(ofRealPath: "/mnt/s3", in: table) == "fuse.s3fs")
        #expect(MountKind.isRemote(type: "nfs4") && MountKind.isRemote(type: "fuse.s3fs") && MountKind.isRemote(type: "cifs"))
        #expect(!MountKind.isRemote(type: "ext4") && !MountKind.isRemote(type: "overlay") && !MountKind.isRemote(type: "tmpfs"))
        // The test stores are local: the watch is on there (the tests above rely on it).
        #expect(MountKind.isLocal(NSTemporaryDirectory()))
    }

    @Test("HUBMIRROR_SERVE_WATCH=0 switches the watch off; anything else leaves it on")
    func switchSetting() {
        #expect(!HubServerConfiguration.watchSetting(["HUBMIRROR_SERVE_WATCH": "0"]))
        #expect(HubServerConfiguration.watchSetting(["HUBMIRROR_SERVE_WATCH": "1"]))
        #expect(HubServerConfiguration.watchSetting([:]))
    }

    @Test("a kept answer is stamped once its facts held under the watch, and stays so until the store changes")
    func stamping() async throws {
        let cache = try Self.cache()
        let index = StoreIndex(store: cache.store, watch: true)
        let answers = AnswerCache()
        let folder = Self.watched.cacheFolderName
        let watch = try #require(index.watch)
        let key = AnswerCache.Key(isHead: false, target: "/t", host: "h", range: nil, hasToken: false)
        let seen = StoreFacts()
        let commit = index.commit(Self.watched, revision: "main", seen: seen)
        #expect(commit == Self.main)
        _ = try await index.view(Self.watched, commit: Self.main, seen: seen)
        answers.keep(key, response: HubHTTPError.notFound().response(), label: "t", facts: seen, index: index)
        // Set up by `keep`, which dropped the views read before: the first use checks the facts, and
        // the view fact fails.
        #expect(watch.generations([folder], watching: false) != nil)
        #expect(answers.answer(key, index: index) == nil)
        let seen2 = StoreFacts()
        _ = index.commit(Self.watched, revision: "main", seen: seen2)
        _ = try await index.view(Self.watched, commit: Self.main, seen: seen2)
        answers.keep(key, response: HubHTTPError.notFound().response(), label: "t", facts: seen2, index: index)
        let g = watch.generations([folder], watching: false)
        let first = try #require(answers.answer(key, index: index))
        #expect(first.stamp == nil && first.repos == [folder])
        // Stamped by that use: given unchecked while the generation stays.
        #expect(answers.answer(key, index: index)?.stamp == g)
        #expect(watch.generations([folder], watching: false) == g)
        // A nested folder and a file in it, made after: the generation moves at each, and the view goes.
        try Self.mkdir(cache, "deep/more")
        let g2 = watch.generations([folder], watching: false)
        #expect(g2 != nil && g2 != g)
        try "x".write(toFile: cache.store.snapshotDirectory(Self.watched, commit: Self.main) + "/deep/more/f", atomically: false, encoding: .utf8)
        let g3 = watch.generations([folder], watching: false)
        #expect(g3 != nil && g3 != g2)
        #expect(index.cachedViewSerial(snapshot: cache.store.snapshotDirectory(Self.watched, commit: Self.main)) == nil)
        #expect(answers.answer(key, index: index) == nil)
    }
}
