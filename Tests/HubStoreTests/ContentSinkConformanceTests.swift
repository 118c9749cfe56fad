import Foundation
import HubCore
import HubDigest
import HubStore
import Testing

/// One suite every `ContentSink` must pass, as restic's backend tests are for its backends: the cache
/// and the plain folder today; a later object-store sink is done when it passes the same tests.
@Suite struct ContentSinkConformanceTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case cache, localDir
        var testDescription: String { rawValue }
    }

    static let repo: RepoRef = { RepoRef(type: .model, id: try! RepoID("acme/sink")) }()
    static let commit = String(repeating: "5", count: 40)

    /// A sink of this kind in a fresh folder, and the folder (removed by the caller).
    static func make(_ kind: Kind) throws -> (any SyncTarget, TempDir) {
        let dir = try TempDir()
        switch kind {
        case .cache: return (CacheStore(root: dir.path).target(repo), dir)
        case .localDir: return (LocalDirStore(root: dir.path + "/out", repo: repo), dir)
        }
    }

    static func entry(_ path: String, _ bytes: [UInt8]) -> ManifestEntry {
        ManifestEntry(path: path, size: Int64(bytes.count), blobID: ContentHasher.gitBlobID(of: bytes))
    }

    static func write(_ staged: any StagedContent, _ bytes: [UInt8], at offset: Int64) throws {
        try bytes.withUnsafeBytes { try staged.write($0, at: offset) }
    }

    static func read(_ staged: any StagedContent, count: Int, at offset: Int64) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let n = try out.withUnsafeMutableBytes { try staged.read(into: $0, at: offset) }
        return Array(out.prefix(n))
    }

    @Test(arguments: Kind.allCases)
    func stagedBytesReadBackWhereTheyWereWritten(_ kind: Kind) throws {
        let (sink, dir) = try Self.make(kind)
        defer { dir.remove() }
        let e = Self.entry("a.bin", Array(repeating: 7, count: 1000))
        let s = try sink.stage(e)
        defer { s.close() }
        #expect(s.size == 1000 && s.resumed.totalBytes == 0)
        try Self.write(s, [1, 2, 3], at: 500)
        try Self.write(s, [9], at: 0)
        #expect(try Self.read(s, count: 3, at: 500) == [1, 2, 3])
        #expect(try Self.read(s, count: 1, at: 0) == [9])
        try s.syncData()
    }

    @Test(arguments: Kind.allCases)
    func aReopenedStagingResumesExactlyTheJournaledRanges(_ kind: Kind) throws {
        let (sink, dir) = try Self.make(kind)
        defer { dir.remove() }
        let e = Self.entry("a.bin", Array(repeating: 7, count: 1000))
        let s = try sink.stage(e)
        try Self.write(s, Array(repeating: 1, count: 100), at: 0)
        try Self.write(s, Array(repeating: 2, count: 100), at: 300)
        try s.journal(IntervalSet([ByteRange(0, 100)]))
        try s.journal(IntervalSet([ByteRange(0, 100), ByteRange(300, 400)]))
        s.close()
        let again = try sink.stage(e)
        defer { again.close() }
        #expect(again.resumed == IntervalSet([ByteRange(0, 100), ByteRange(300, 400)]))
        #expect(try Self.read(again, count: 2, at: 99) == [1, 0], "written bytes kept, unwritten ones not invented")
    }

    @Test(arguments: Kind.allCases)
    func rewritingTheJournalForgetsDiscardedRanges(_ kind: Kind) throws {
        let (sink, dir) = try Self.make(kind)
        defer { dir.remove() }
        let e = Self.entry("a.bin", Array(repeating: 7, count: 1000))
        let s = try sink.stage(e)
        try s.journal(IntervalSet([ByteRange(0, 500)]))
        try s.rewriteJournal(IntervalSet([ByteRange(0, 100)]))
        s.close()
        let again = try sink.stage(e)
        defer { again.close() }
        #expect(again.resumed == IntervalSet([ByteRange(0, 100)]))
    }

    @Test(arguments: Kind.allCases)
    func restartForgetsEverything(_ kind: Kind) throws {
        let (sink, dir) = try Self.make(kind)
        defer { dir.remove() }
        let e = Self.entry("a.bin", Array(repeating: 7, count: 1000))
        let s = try sink.stage(e)
        try s.journal(IntervalSet([ByteRange(0, 500)]))
        try s.restart()
        #expect(s.resumed.totalBytes == 0)
        s.close()
        let again = try sink.stage(e)
        defer { again.close() }
        #expect(again.resumed.totalBytes == 0)
    }

    @Test(arguments: Kind.allCases)
    func adoptedContentIsHeldAndItsStagingIsGone(_ kind: Kind) throws {
        let (sink, dir) = try Self.make(kind)
        defer { dir.remove() }
        let bytes = Array("hello sink\n".utf8)
        let e = Self.entry("a.txt", bytes)
        #expect(!sink.hasContent(e))
        let s = try sink.stage(e)
        try Self.write(s, bytes, at: 0)
        try s.journal(IntervalSet([ByteRange(0, Int64(bytes.count))]))
        try sink.adopt(s, as: e)
        #expect(sink.hasContent(e))
        let fresh = try sink.stage(e)
        defer { fresh.close() }
        #expect(fresh.resumed.totalBytes == 0, "no journal left behind")
    }

    @Test(arguments: Kind.allCases)
    func aCommitBecomesVisibleOnlyWhenPublished(_ kind: Kind) throws {
        let (sink, dir) = try Self.make(kind)
        defer { dir.remove() }
        let bytes = Array("content\n".utf8)
        let e = Self.entry("sub/a.txt", bytes)
        let manifest = Manifest(repo: Self.repo, commit: Self.commit, entries: [e])
        let plan = Differ.plan(local: nil, remote: manifest)
        // Without its content a commit cannot be published, and nothing of it shows.
        #expect(throws: HubError.self) { try sink.publish(plan: plan, target: manifest, full: manifest, revision: "main") }
        #expect(sink.localCommit(revision: "main") == nil)
        let s = try sink.stage(e)
        try Self.write(s, bytes, at: 0)
        try sink.adopt(s, as: e)
        #expect(sink.localCommit(revision: "main") == nil, "adopting content publishes nothing")
        try sink.publish(plan: plan, target: manifest, full: manifest, revision: "main")
        #expect(sink.localCommit(revision: "main") == Self.commit)
        #expect(sink.heldManifest(commit: Self.commit)?.entries.map(\.path) == ["sub/a.txt"])
        #expect(sink.savedManifest(commit: Self.commit) == manifest)
    }

    @Test(arguments: Kind.allCases)
    func theLockIsExclusive(_ kind: Kind) throws {
        let (sink, dir) = try Self.make(kind)
        defer { dir.remove() }
        let held = try sink.lock()
        #expect { _ = try sink.lock() } throws: { ($0 as? HubError)?.kind == .lockHeld }
        held.unlock()
        let again = try sink.lock()
        again.unlock()
    }
}
