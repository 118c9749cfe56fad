internal import HubCore

/// One thing a request learnt from the store, in a form that can be checked again: an answer built
/// from a set of facts is the answer again for as long as every fact still holds, because handlers
/// read the store only through `StoreIndex`, which records what it read here.
enum StoreFact: Hashable, Sendable {
    /// The ref file at `path` names `commit` (nil: it is missing or does not hold a commit sha).
    case ref(path: String, commit: String?)
    /// `stat` (following links) of `path` says whether it is a folder.
    case isDirectory(path: String, Bool)
    /// `stat` (following links) of `path` gives this stamp (nil: it does not exist).
    case stamp(path: String, FileStamp?)
    /// `lstat` of `path` says it is (or is not) a regular file of `size` bytes.
    case blob(path: String, size: Int64, present: Bool)
    /// The index's view of the snapshot at `path` is the one with this serial number: a view dropped
    /// because one of its files turned out to be gone (`StoreIndex.invalidate`) takes its answers along.
    case view(path: String, serial: UInt64)

    /// The store path the fact is about.
    var path: String {
        switch self {
        case .ref(let p, _), .isDirectory(let p, _), .stamp(let p, _), .blob(let p, _, _), .view(let p, _): return p
        }
    }

    /// Reads the store (or the index) again: true when the fact is still so.
    func holds(in index: StoreIndex) -> Bool {
        switch self {
        case .ref(let path, let commit): return RefFile.commit(at: path) == commit
        case .isDirectory(let path, let isDir): return (PosixFS.stamp(path)?.isDirectory ?? false) == isDir
        case .stamp(let path, let stamp): return PosixFS.stamp(path) == stamp
        case .blob(let path, let size, let present): return StoreIndex.isBlob(path, size: size) == present
        case .view(let path, let serial): return index.cachedViewSerial(snapshot: path) == serial
        }
    }
}

/// The facts one request's answer was built from, and whether that answer may be given again while
/// they hold. Used by one request at a time.
final class StoreFacts: @unchecked Sendable {
    private(set) var facts: [StoreFact] = []
    /// False once the answer depended on something the facts do not capture (a directory listing, a
    /// snapshot without a saved manifest, a body streamed from a file or from upstream).
    private(set) var reusable = true
    /// Bytes of the body held in memory, for the answer cache's budget.
    var bodyBytes = 0

    func note(_ fact: StoreFact) {
        guard reusable, !facts.contains(fact) else { return }
        facts.append(fact)
    }

    func notReusable() { reusable = false; facts = [] }

    /// The facts to check, fewest `stat`s first: a folder check is dropped when a stamp of the same
    /// path says the same.
    var checks: [StoreFact] {
        facts.filter { f in
            guard case .isDirectory(let p, let isDir) = f else { return true }
            return !facts.contains { if case .stamp(p, let s) = $0 { return (s?.isDirectory ?? false) == isDir } else { return false } }
        }
    }
}
