/// What the store watch knows, without the kernel: which watched folder each inotify watch is, the
/// generation of every repo folder answers were kept for, and whether that repo is wholly watched.
/// `StoreWatch` feeds it the decoded events and carries out the actions it returns; every decision
/// about what an event means is made here.
///
/// A repo's generation moves on every event that can change an answer about it; an answer stamped
/// with a generation is good while the generation has not moved and the repo is `watched`. A repo
/// that is not `watched` (never set up, lost after an overflow or a watch the kernel dropped, or
/// failed: see `State`) falls back to checking the facts of each answer.
struct WatchBook: Sendable {
    /// inotify mask bits (Linux ABI values), named here so that the book is testable without the kernel.
    enum Mask {
        static let modify: UInt32 = 0x2
        static let attrib: UInt32 = 0x4
        static let closeWrite: UInt32 = 0x8
        static let movedFrom: UInt32 = 0x40
        static let movedTo: UInt32 = 0x80
        static let create: UInt32 = 0x100
        static let delete: UInt32 = 0x200
        static let deleteSelf: UInt32 = 0x400
        static let moveSelf: UInt32 = 0x800
        static let unmount: UInt32 = 0x2000
        static let overflow: UInt32 = 0x4000
        static let ignored: UInt32 = 0x8000
        static let isDir: UInt32 = 0x4000_0000
        /// What every folder is watched for.
        static let watched: UInt32 = create | delete | movedFrom | movedTo | modify | attrib | closeWrite | deleteSelf | moveSelf
    }

    /// One event as `read` returned it.
    struct Event: Equatable, Sendable {
        var wd: Int32
        var mask: UInt32
        var name: String
    }

    /// A watched folder: the store root, or a folder of a repo (`rel` relative to the repo folder,
    /// `""` for the repo folder itself).
    enum Place: Equatable, Sendable {
        case root
        case folder(repo: String, rel: String)
    }

    enum State: Equatable, Sendable {
        case watched
        /// Was watched; an event said the watches no longer cover it (set up again on next use).
        case lost
        /// Cannot be watched (the kernel refused a watch, `max_user_watches`; a network file system;
        /// a folder shared with another repo through a link): checked by facts from now on.
        case failed
    }

    /// What `StoreWatch` must do for an event.
    enum Action: Hashable, Sendable {
        /// Watch the folder `rel` of `repo` and the folders below it that are watched (it is new).
        case watchTree(repo: String, rel: String)
        /// Forget the commit views of `repo`: a snapshot's content, a blob or the repo folder changed.
        case dropViews(repo: String)
    }

    private(set) var places: [Int32: Place] = [:]
    private(set) var repos: [String: (state: State, generation: UInt64)] = [:]
    /// Watches whose folder was deleted: their `IN_IGNORED` is expected.
    private var deleted: Set<Int32> = []
    private(set) var rootWatched = false

    /// The folders of a repo folder that are watched: what the server reads.
    static let repoFolders: Set<String> = ["refs", "snapshots", "blobs", ".hubmirror"]

    /// Whether the folder `name` inside the repo folder `rel` is watched too.
    static func watchesChild(of rel: String, named name: String) -> Bool {
        if rel.isEmpty { return repoFolders.contains(name) }
        if rel == ".hubmirror" { return name == "manifests" }
        return isBelow(rel, "refs") || isBelow(rel, "snapshots")
    }

    private static func isBelow(_ rel: String, _ top: String) -> Bool {
        rel == top || rel.hasPrefix(top + "/")
    }

    /// The generation of `repo` when it is wholly watched, else nil.
    func generation(of repo: String) -> UInt64? {
        guard rootWatched, let r = repos[repo], r.state == .watched else { return nil }
        return r.generation
    }

    func state(of repo: String) -> State? { repos[repo]?.state }

    mutating func watchedRoot(wd: Int32) {
        places[wd] = .root
        rootWatched = true
    }

    mutating func registered(wd: Int32, repo: String, rel: String) {
        places[wd] = .folder(repo: repo, rel: rel)
        deleted.remove(wd)
    }

    /// Starts (or restarts) a repo: forgets its watches and returns them, to be removed.
    mutating func begin(_ repo: String) -> [Int32] {
        let old = forgetWatches(of: repo)
        let g = repos[repo]?.generation ?? 0
        repos[repo] = (.watched, g &+ 1)
        return old
    }

    /// `repo` cannot be watched: it is checked by its facts from now on. Returns its watches, to be removed.
    mutating func failed(_ repo: String) -> [Int32] {
        let wds = forgetWatches(of: repo)
        bump(repo, to: .failed)
        return wds
    }

    /// Forgets every watch of `repo` and returns them (to be removed from the kernel's list).
    private mutating func forgetWatches(of repo: String) -> [Int32] {
        let wds = places.compactMap { wd, p in Self.owner(p) == repo ? wd : nil }
        for wd in wds { places[wd] = nil; deleted.remove(wd) }
        return wds
    }

    mutating func bump(_ repo: String) {
        guard let r = repos[repo] else { return }
        repos[repo] = (r.state, r.generation &+ 1)
    }

    private mutating func bump(_ repo: String, to state: State) {
        let g = repos[repo]?.generation ?? 0
        let keep = repos[repo]?.state == .failed ? State.failed : state
        repos[repo] = (keep, g &+ 1)
    }

    private static func owner(_ p: Place) -> String? {
        if case .folder(let repo, _) = p { return repo }
        return nil
    }

    /// Everything is checked by facts again until set up anew (an overflow lost events).
    private mutating func loseAll() -> [Action] {
        var actions: [Action] = []
        for name in repos.keys.sorted() {
            bump(name, to: .lost)
            actions.append(.dropViews(repo: name))
        }
        return actions
    }

    /// A watched folder itself went away or elsewhere: its repo's generation moves (and the repo is
    /// `lost` when its watches no longer cover it); for the store root, every repo is lost.
    private mutating func watchedFolderChanged(_ place: Place, lost: Bool) -> [Action] {
        guard case .folder(let repo, _) = place else { rootWatched = false; return loseAll() }
        if lost { bump(repo, to: .lost) } else { bump(repo) }
        return [.dropViews(repo: repo)]
    }

    /// What `event` means: generations moved, repos lost, and the actions to take.
    mutating func apply(_ e: Event) -> [Action] {
        if e.mask & Mask.overflow != 0 { return loseAll() }
        guard let place = places[e.wd] else { return [] }   // a watch removed meanwhile
        if e.mask & Mask.ignored != 0 {
            places[e.wd] = nil
            if deleted.remove(e.wd) != nil { return [] }
            // The kernel dropped a watch of a folder that is still there (unmounted, removed by hand).
            return watchedFolderChanged(place, lost: true)
        }
        if e.mask & Mask.deleteSelf != 0 {
            deleted.insert(e.wd)
            return watchedFolderChanged(place, lost: false)
        }
        if e.mask & (Mask.moveSelf | Mask.unmount) != 0 {
            // The folder is elsewhere now: its watch (and those below) no longer name its place.
            return watchedFolderChanged(place, lost: true)
        }
        let newFolder = e.mask & Mask.isDir != 0 && e.mask & (Mask.create | Mask.movedTo) != 0
        switch place {
        case .root:
            guard repos[e.name] != nil else { return [] }   // a repo no answer was kept for
            if e.mask & Mask.movedFrom != 0 {
                bump(e.name, to: .lost)
            } else {
                bump(e.name)
            }
            var actions: [Action] = [.dropViews(repo: e.name)]
            if newFolder, state(of: e.name) == .watched { actions.append(.watchTree(repo: e.name, rel: "")) }
            return actions
        case .folder(let repo, let rel):
            guard Self.matters(rel: rel, name: e.name) else { return [] }
            bump(repo)
            var actions: [Action] = []
            if Self.dropsViews(rel: rel, mask: e.mask) { actions.append(.dropViews(repo: repo)) }
            if newFolder, state(of: repo) == .watched, Self.watchesChild(of: rel, named: e.name) {
                actions.append(.watchTree(repo: repo, rel: rel.isEmpty ? e.name : rel + "/" + e.name))
            }
            return actions
        }
    }

    /// Whether an entry `name` of the repo folder `rel` is something the server reads.
    static func matters(rel: String, name: String) -> Bool {
        switch rel {
        case "": return repoFolders.contains(name)
        case ".hubmirror": return name == "repo-info.json" || name == "manifests"
        case "blobs": return HexText.isEtag(name)   // not the `.incomplete` files of a download
        default: return true
        }
    }

    /// Commit views list a snapshot's files with their blobs: any change inside a snapshot, a blob
    /// going away, or a folder of the repo replaced makes them stale.
    static func dropsViews(rel: String, mask: UInt32) -> Bool {
        if rel.isEmpty { return true }
        if isBelow(rel, "snapshots") { return true }
        if rel == "blobs" { return mask & (Mask.delete | Mask.movedFrom | Mask.modify | Mask.closeWrite) != 0 }
        return false
    }
}
