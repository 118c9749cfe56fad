@testable import HubServer
import Testing

/// What each inotify event means for the generations of repos, without a kernel (issue #13): the
/// book is fed decoded events as `StoreWatch` would feed it.
@Suite("Store watch book")
struct WatchBookTests {
    typealias M = WatchBook.Mask
    static let repo = "models--acme--tiny"
    static let other = "models--acme--other"
    static let sha = "1111111111111111111111111111111111111111"
    static let etag = "2222222222222222222222222222222222222222"

    /// A book watching the root (wd 1) and two repos: wd 10... for `repo`, 20... for `other`.
    static func book() -> WatchBook {
        var b = WatchBook()
        b.watchedRoot(wd: 1)
        for (base, name) in [(Int32(10), repo), (Int32(20), other)] {
            #expect(b.begin(name).isEmpty)
            for (i, rel) in ["", "refs", "snapshots", "snapshots/\(sha)", "snapshots/\(sha)/sub", "blobs", ".hubmirror", ".hubmirror/manifests"].enumerated() {
                b.registered(wd: base + Int32(i), repo: name, rel: rel)
            }
        }
        return b
    }

    static func event(_ wd: Int32, _ mask: UInt32, _ name: String = "") -> WatchBook.Event { .init(wd: wd, mask: mask, name: name) }

    @Test("every change to what the server reads moves the repo's generation, and only that repo's")
    func changesBump() {
        let cases: [(WatchBook.Event, [WatchBook.Action])] = [
            (Self.event(11, M.modify, "main"), []),                                          // ref rewritten in place
            (Self.event(11, M.movedTo, "main"), []),                                         // ref replaced by rename
            (Self.event(12, M.movedTo | M.isDir, Self.sha), [.dropViews(repo: Self.repo), .watchTree(repo: Self.repo, rel: "snapshots/\(Self.sha)")]),
            (Self.event(13, M.create, "late.txt"), [.dropViews(repo: Self.repo)]),          // a link added to a snapshot
            (Self.event(14, M.create | M.isDir, "new"), [.dropViews(repo: Self.repo), .watchTree(repo: Self.repo, rel: "snapshots/\(Self.sha)/sub/new")]),
            (Self.event(15, M.delete, Self.etag), [.dropViews(repo: Self.repo)]),           // a blob removed
            (Self.event(15, M.movedTo, Self.etag), []),                                      // a blob added
            (Self.event(16, M.movedTo, "repo-info.json"), []),
            (Self.event(17, M.closeWrite, "\(Self.sha).json"), []),
            (Self.event(10, M.create | M.isDir, "refs"), [.dropViews(repo: Self.repo), .watchTree(repo: Self.repo, rel: "refs")]),
            (Self.event(1, M.create | M.isDir, Self.repo), [.dropViews(repo: Self.repo), .watchTree(repo: Self.repo, rel: "")]),
        ]
        for (e, expected) in cases {
            var b = Self.book()
            let before = b.generation(of: Self.repo)!, otherBefore = b.generation(of: Self.other)
            #expect(b.apply(e) == expected, "\(e)")
            #expect(b.generation(of: Self.repo) == before + 1, "\(e)")
            #expect(b.generation(of: Self.other) == otherBefore, "\(e)")
        }
    }

    @Test("events about what the server never reads move nothing")
    func noise() {
        let cases: [WatchBook.Event] = [
            Self.event(15, M.modify, "\(Self.etag).incomplete"),   // huggingface_hub downloading
            Self.event(16, M.create | M.isDir, "staging"),           // a sync staging a snapshot
            Self.event(16, M.modify, "journal"),
            Self.event(10, M.create | M.isDir, ".no_exist"),
            Self.event(1, M.create | M.isDir, "models--acme--unknown"),   // no answer kept for it
            Self.event(99, M.modify, "x"),                           // a watch already forgotten
        ]
        for e in cases {
            var b = Self.book()
            let before = b.generation(of: Self.repo)
            #expect(b.apply(e).isEmpty, "\(e)")
            #expect(b.generation(of: Self.repo) == before, "\(e)")
        }
    }

    @Test("an overflow puts every repo back on fact checks until it is set up again")
    func overflow() {
        var b = Self.book()
        let actions = b.apply(Self.event(-1, M.overflow))
        #expect(Set(actions) == [.dropViews(repo: Self.repo), .dropViews(repo: Self.other)])
        #expect(b.generation(of: Self.repo) == nil && b.generation(of: Self.other) == nil)
        #expect(b.state(of: Self.repo) == .lost)
        // Set up again: its old watches are handed back for removal, and it has a new generation.
        let old = b.begin(Self.repo)
        #expect(old.count == 8)
        b.registered(wd: 30, repo: Self.repo, rel: "")
        #expect(b.generation(of: Self.repo) != nil && b.generation(of: Self.other) == nil)
        // Events of the removed watches (their IN_IGNORED included) change nothing.
        #expect(b.apply(Self.event(11, M.ignored)).isEmpty)
        #expect(b.state(of: Self.repo) == .watched)
    }

    @Test("a deleted folder's IN_IGNORED is expected; one for a folder still there loses the repo")
    func ignored() {
        var b = Self.book()
        _ = b.apply(Self.event(14, M.deleteSelf))
        let g = b.generation(of: Self.repo)
        #expect(g != nil)
        #expect(b.apply(Self.event(14, M.ignored)).isEmpty)
        #expect(b.generation(of: Self.repo) == g)
        #expect(b.apply(Self.event(13, M.ignored)) == [.dropViews(repo: Self.repo)])
        #expect(b.generation(of: Self.repo) == nil && b.state(of: Self.repo) == .lost)
        #expect(b.generation(of: Self.other) != nil)
    }

    @Test("a folder moved away, the repo folder renamed, or the root gone: fact checks from then on")
    func moves() {
        var b = Self.book()
        _ = b.apply(Self.event(13, M.moveSelf))
        #expect(b.generation(of: Self.repo) == nil && b.generation(of: Self.other) != nil)
        b = Self.book()
        _ = b.apply(Self.event(1, M.movedFrom | M.isDir, Self.repo))
        #expect(b.generation(of: Self.repo) == nil)
        b = Self.book()
        _ = b.apply(Self.event(1, M.deleteSelf))
        #expect(b.generation(of: Self.repo) == nil && b.generation(of: Self.other) == nil && !b.rootWatched)
    }

    @Test("a repo the kernel refused a watch for stays on fact checks, overflow or not")
    func failed() {
        var b = Self.book()
        #expect(b.failed(Self.repo).count == 8)
        #expect(b.generation(of: Self.repo) == nil && b.state(of: Self.repo) == .failed)
        _ = b.apply(Self.event(-1, M.overflow))
        #expect(b.state(of: Self.repo) == .failed)
        #expect(b.apply(Self.event(11, M.modify, "main")).isEmpty)   // its watches were removed
    }

    @Test("which folders are watched: the repo's four folders, the manifests, everything below refs and snapshots")
    func watchedFolders() {
        #expect(["refs", "snapshots", "blobs", ".hubmirror"].allSatisfy { WatchBook.watchesChild(of: "", named: $0) })
        #expect(!WatchBook.watchesChild(of: "", named: ".no_exist"))
        #expect(WatchBook.watchesChild(of: ".hubmirror", named: "manifests"))
        #expect(!WatchBook.watchesChild(of: ".hubmirror", named: "staging"))
        #expect(!WatchBook.watchesChild(of: "blobs", named: "x"))
        #expect(WatchBook.watchesChild(of: "refs", named: "pr"))
        #expect(WatchBook.watchesChild(of: "snapshots/\(Self.sha)/a", named: "b"))
    }
}
