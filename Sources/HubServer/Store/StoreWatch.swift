internal import HubCore
internal import HubStore
#if canImport(Glibc)
internal import Glibc
#endif

/// An inotify watch of the store root and of the folders of every repo an answer was kept for, so
/// that a kept answer needs no store reads while nothing it depends on has changed, whoever changed
/// the store (hubmirror's sync, mirror, gc, repair or import, or another tool writing the same cache).
///
/// Exact, not eventually consistent: the kernel queues an event inside the system call that changed
/// the folder, before that call returns. `drain()` reads the queue until it is empty and applies the
/// events under one lock, so a request that drains before it looks at a kept answer sees every change
/// completed before the request came, and a request that finds the queue empty cannot run ahead of one
/// still applying events it has read. What each event means is `WatchBook`'s; this class does the I/O.
final class StoreWatch: Sendable {
    private let fd: Int32
    private let root: String
    private let book = Locked(WatchBook())
    /// Called, under the watch's lock, when the commit views of a repo folder must be forgotten.
    private let dropViews: @Sendable (String) -> Void
    /// The read buffer, used under the lock only.
    nonisolated(unsafe) private let buffer = UnsafeMutableRawPointer.allocate(byteCount: StoreWatch.bufferSize, alignment: 8)
    private static let bufferSize = 64 << 10

    private static let onlyDir: UInt32 = 0x0100_0000
    private static let dontFollow: UInt32 = 0x0200_0000

    /// Nil when inotify is not available or the root cannot be watched: answers are then checked by
    /// their facts as before.
    init?(root: String, dropViews: @escaping @Sendable (String) -> Void) {
        #if canImport(Glibc)
        guard MountKind.isLocal(root) else { return nil }
        let fd = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let wd = inotify_add_watch(fd, root, WatchBook.Mask.watched | Self.onlyDir)
        guard wd >= 0 else { close(fd); return nil }
        self.fd = fd
        self.root = root
        self.dropViews = dropViews
        book.withLock { $0.watchedRoot(wd: wd) }
        #else
        return nil
        #endif
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    /// Applies every queued event, then gives the generation of each repo folder in `repos` (nil when
    /// one of them is not wholly watched). A repo no answer was kept for, or one whose watches were
    /// lost, is set up first when `watching` is true (its views are dropped, so what is read next is
    /// read under the watch).
    func generations(_ repos: [String], watching: Bool) -> [UInt64]? {
        book.withLock { b in
            drain(&b)
            var out: [UInt64] = []
            out.reserveCapacity(repos.count)
            for repo in repos {
                if watching, b.rootWatched, b.state(of: repo) != .watched, b.state(of: repo) != .failed { setUp(repo, &b) }
                guard let g = b.generation(of: repo) else { return nil }
                out.append(g)
            }
            return out
        }
    }

    /// Applies every queued event.
    func drain() { book.withLock { drain(&$0) } }

    /// Moves the generation of `repo` (the server itself dropped something its answers depend on).
    func bump(_ repo: String) { book.withLock { $0.bump(repo) } }

    // MARK: - under the lock

    private func drain(_ b: inout WatchBook) {
        #if canImport(Glibc)
        let buf = buffer
        while true {
            let n = read(fd, buf, Self.bufferSize)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }   // EAGAIN: the queue is empty
            var off = 0
            let header = MemoryLayout<inotify_event>.size
            while off + header <= n {
                let p = buf + off
                let wd = p.load(fromByteOffset: 0, as: Int32.self)
                let mask = p.load(fromByteOffset: 4, as: UInt32.self)
                let len = Int(p.load(fromByteOffset: 12, as: UInt32.self))
                var name = ""
                if len > 0 {
                    let bytes = UnsafeRawBufferPointer(start: p + header, count: len)
                    let end = bytes.firstIndex(of: 0) ?? len
                    name = String(decoding: bytes[..<end], as: UTF8.self)
                }
                off += header + len
                perform(b.apply(.init(wd: wd, mask: mask, name: name)), &b)
            }
        }
        #endif
    }

    private func perform(_ actions: [WatchBook.Action], _ b: inout WatchBook) {
        for action in actions {
            switch action {
            case .dropViews(let repo):
                dropViews(repo)
            case .watchTree(let repo, let rel):
                if !watchTree(repo, rel: rel, &b) { fail(repo, &b) }
                dropViews(repo)   // what was made in the folder before its watch existed
            }
        }
    }

    private func setUp(_ repo: String, _ b: inout WatchBook) {
        #if canImport(Glibc)
        for wd in b.begin(repo) { _ = inotify_rm_watch(fd, wd) }
        #endif
        if !watchTree(repo, rel: "", &b) { fail(repo, &b) }
        dropViews(repo)
    }

    private func fail(_ repo: String, _ b: inout WatchBook) {
        #if canImport(Glibc)
        for wd in b.failed(repo) { _ = inotify_rm_watch(fd, wd) }
        #endif
    }

    /// Watches `rel` of `repo` and the watched folders below it, each before its listing is read (so
    /// nothing made meanwhile is missed). False when the kernel refused a watch for another reason
    /// than the folder being gone (its parent's watch then tells of it).
    private func watchTree(_ repo: String, rel: String, _ b: inout WatchBook) -> Bool {
        #if canImport(Glibc)
        var stack = [rel]
        while let r = stack.popLast() {
            let path = r.isEmpty ? root + "/" + repo : root + "/" + repo + "/" + r
            // Links are followed for the repo folder and its four folders (a store may link `blobs`
            // elsewhere), not inside snapshots and refs.
            let depth = r.isEmpty ? 0 : r.utf8.reduce(1) { $0 + ($1 == 47 ? 1 : 0) }
            let flags = WatchBook.Mask.watched | Self.onlyDir | (depth <= 1 ? 0 : Self.dontFollow)
            // A folder another machine can write to (NFS, SMB, FUSE...) tells inotify nothing of it.
            if depth <= 1, FS.realPath(path) != nil, !MountKind.isLocal(path) { return false }
            let wd = inotify_add_watch(fd, path, flags)
            if wd < 0 {
                let e = errno
                if e == ENOENT || e == ENOTDIR { continue }
                return false
            }
            // The same folder reached from another repo (or the root) through a link: its events
            // would be told of one place only, so this repo is checked by facts.
            switch b.places[wd] {
            case .root?: return false
            case .folder(let owner, _)? where owner != repo: return false
            default: break
            }
            b.registered(wd: wd, repo: repo, rel: r)
            for name in PosixFS.names(in: path) where WatchBook.watchesChild(of: r, named: name) {
                let child = r.isEmpty ? name : r + "/" + name
                guard let st = PosixFS.stamp(path + "/" + name, followLinks: depth < 1), st.isDirectory else { continue }
                stack.append(child)
            }
        }
        b.bump(repo)
        return true
        #else
        return false
        #endif
    }
}
