import Foundation
public import HubCore
import HubDigest
public import HubStore

/// `hubmirror import`: reads bundle volumes (in any order, stdin included) in one forward pass each,
/// checks every blob against the manifest while its bytes stream into the store's staging, adopts
/// it into `blobs/` once verified and journals it, and publishes every commit's snapshot and ref,
/// atomically, only when the whole bundle is verified. A rerun after a kill skips what the journal
/// records.
public final class BundleImporter: @unchecked Sendable {
    public struct Options: Sendable {
        public var trust: TrustPolicy
        /// fsync blobs before adopting them and journal lines after writing them.
        public var durable: Bool

        public init(trust: TrustPolicy = TrustPolicy(keys: []), durable: Bool = true) {
            self.trust = trust
            self.durable = durable
        }
    }

    public enum Event: Sendable {
        case volume(path: String, volume: Int, of: Int)
        case verified(name: String, bytes: Int64)
        case skipped(name: String, bytes: Int64, reason: VolumeMachine.SkipReason)
        case published(repo: RepoRef, commit: String, refs: [String])
    }

    /// What an import did.
    public struct Report: Codable, Sendable {
        public var bundleID = ""
        public var volumes = 0
        public var volumesRead: [Int] = []
        public var membersVerified = 0
        public var bytesVerified: Int64 = 0
        /// Verified by an earlier, interrupted run (journaled): not read again.
        public var membersSkipped = 0
        public var bytesSkipped: Int64 = 0
        /// Already in the store before this import: not read.
        public var membersHeld = 0
        public var bytesHeld: Int64 = 0
        public var commitsPublished = 0
        public var refsWritten = 0
    }

    /// Blobs from this size on are hashed on a second thread.
    static let pipelineThreshold: Int64 = 4 << 20

    public let store: CacheStore
    public let options: Options
    let onEvent: @Sendable (Event) -> Void

    var manifestBytes: [UInt8] = []
    var manifest: BundleManifest?
    var firstArchive = ""
    var targets = BlobTargets(BundleManifest(bundleID: "", created: "", since: nil, volumes: 1, volumeSize: nil, repos: [], blobs: []))
    var locks: [FileLock] = []
    var journals: [RepoRef: ImportJournal] = [:]
    /// Member name → sha256 of every member verified (journaled earlier or now).
    var verified: [String: String] = [:]
    var splits: [String: SplitBlob] = [:]
    var report = Report()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)

    public init(store: CacheStore, options: Options, onEvent: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.store = store
        self.options = options
        self.onEvent = onEvent
    }

    deinit {
        buffer.deallocate()
        for l in locks { l.unlock() }
    }

    /// Imports the volumes at `paths` (`-` is stdin; a `PATH` that does not exist but `PATH.001` does
    /// stands for all of `PATH.NNN`).
    public func run(_ paths: [String]) throws -> Report {
        let inputs = Self.expand(paths)
        defer { for l in locks { l.unlock() }; locks = [] }
        for path in inputs {
            try readVolume(InputStream(path: path))
        }
        guard let manifest else { throw HubError(.usage, "no bundle given") }
        try checkComplete(manifest, inputs: inputs)
        try publish(manifest)
        for j in journals.values { j.remove() }
        for r in manifest.repos { FS.removeItem(ImportJournal.path(store, r.repo, bundleID: manifest.bundleID)) }
        return report
    }

    static func expand(_ paths: [String]) -> [String] {
        paths.flatMap { p -> [String] in
            if p == "-" || FS.exists(p) || !FS.exists(p + ".001") { return [p] }
            let dir = (p as NSString).deletingLastPathComponent
            let base = (p as NSString).lastPathComponent
            return FS.listDirectory(dir.isEmpty ? "." : dir)
                .filter { $0.hasPrefix(base + ".") && Int($0.dropFirst(base.count + 1)) != nil }
                .map { dir.isEmpty ? $0 : dir + "/" + $0 }
        }
    }

    // MARK: one volume

    func readVolume(_ input: InputStream) throws {
        let tar = TarReader(input)
        guard let first = try tar.next() else { throw HubError(.bundleFormat, "\(input.name): an empty tar archive, not a bundle") }
        guard first.header.kind == .regular, first.name == BundleLayout.manifestName else {
            _ = try BundleLayout.role(of: first.name, in: input.name)
            throw HubError(.bundleFormat, "\(input.name): the first entry is \(first.name), not \(BundleLayout.manifestName): not a hubmirror bundle")
        }
        let bytes = try tar.readAll(limit: BundleCheck.manifestLimit)
        let m = try adoptManifest(bytes, from: input.name)
        let held = Set(m.blobs.map(\.sha256).filter { targets.held($0, in: store) })
        var machine = VolumeMachine(manifest: m, archive: input.name, verified: Set(verified.keys), held: held)
        var manifestSignature: [UInt8]?
        var signatureChecked = false
        var indexBytes: [UInt8]?
        var partDigests: [String: String] = [:]
        while let member = try tar.next() {
            let action = try machine.accept(member.header)
            if action != .manifestSignature && !signatureChecked {
                try options.trust.check(manifestSignature, of: manifestBytes, what: "the manifest", archive: input.name)
                signatureChecked = true
            }
            switch action {
            case .manifestSignature:
                manifestSignature = try tar.readAll(limit: 1024)
            case .skip(let blob, let member, let reason):
                try tar.skipData()
                if reason == .journaled {
                    report.membersSkipped += 1
                    report.bytesSkipped += member.size
                } else {
                    report.membersHeld += 1
                    report.bytesHeld += member.size
                }
                if blob.isSplit, let sha = verified[member.name] { partDigests[member.name] = sha }
                onEvent(.skipped(name: member.name, bytes: member.size, reason: reason))
            case .ingest(let blob, let member):
                if blob.isSplit {
                    partDigests[member.name] = try ingestPart(blob, member, from: tar, archive: input.name)
                } else {
                    try ingestWhole(blob, from: tar, archive: input.name)
                    verified[member.name] = blob.sha256
                }
                report.membersVerified += 1
                report.bytesVerified += member.size
                onEvent(.verified(name: member.name, bytes: member.size))
            case .index(let v):
                let b = try tar.readAll(limit: BundleCheck.manifestLimit)
                try checkIndex(b, volume: v, of: m, partDigests: partDigests, archive: input.name)
                indexBytes = b
                onEvent(.volume(path: input.name, volume: v, of: m.volumes))
            case .indexSignature(let v):
                let sig = try tar.readAll(limit: 1024)
                try options.trust.check(sig, of: indexBytes ?? [], what: "the index of volume \(v)", archive: input.name)
            }
        }
        try machine.end()
        if !signatureChecked { try options.trust.check(manifestSignature, of: manifestBytes, what: "the manifest", archive: input.name) }
        if !machine.sawIndexSignature, let v = machine.volume {
            try options.trust.check(nil, of: indexBytes ?? [], what: "the index of volume \(v)", archive: input.name)
        }
        // Parts count as verified once their volume's index (and its signature) vouched for them.
        for (name, sha) in partDigests where verified[name] == nil {
            let (blob, _) = machine.blobsByMember[name]!
            try journal(for: blob).record(name, sha256: sha)
            verified[name] = sha
        }
        for blob in m.blobs where blob.isSplit && blob.members.allSatisfy({ verified[$0.name] != nil }) && !targets.held(blob.sha256, in: store) {
            try finishSplit(blob, archive: input.name)
        }
        if let v = machine.volume { report.volumesRead.append(v) }
    }

    /// The first manifest sets up the import; every later volume must carry the same bytes.
    func adoptManifest(_ bytes: [UInt8], from archive: String) throws -> BundleManifest {
        if let manifest {
            guard bytes == manifestBytes else {
                let other = try? BundleCheck.decode(bytes, in: archive)
                if let other, other.bundleID != manifest.bundleID {
                    throw HubError(.bundleFormat, "\(archive) belongs to bundle \(other.bundleID), not to bundle \(manifest.bundleID) of \(firstArchive)")
                }
                throw HubError(.bundleFormat, "\(archive): its manifest differs from the one in \(firstArchive): one of them was changed")
            }
            return manifest
        }
        let m = try BundleCheck.decode(bytes, in: archive)
        try BundleCheck.validate(m, in: archive)
        manifestBytes = bytes
        manifest = m
        firstArchive = archive
        targets = BlobTargets(m)
        report.bundleID = m.bundleID
        report.volumes = m.volumes
        // Files whose bytes the bundle does not carry must be in the store already.
        let carried = Set(m.blobs.map(\.sha256))
        for r in m.repos {
            for c in r.commits {
                for e in c.entries where !carried.contains(e.sha256!) {
                    if store.findBlob(etag: e.etag, size: e.size, preferring: r.repo) == nil {
                        throw HubError(.bundleIncomplete, "\(archive): \(r.repo)@\(c.commit) needs \(e.path) (\(e.etag), \(ByteSize.format(e.size))), which is neither in the bundle nor in the store \(store.root) (an incremental bundle made against another state?); nothing was imported")
                    }
                }
            }
        }
        var blobsByMember: [String: BundleBlob] = [:]
        for b in m.blobs { for member in b.members { blobsByMember[member.name] = b } }
        for repo in m.repos.map(\.repo).sorted(by: { $0.cacheFolderName < $1.cacheFolderName }) {
            locks.append(try store.target(repo).lock())
            let path = ImportJournal.path(store, repo, bundleID: m.bundleID)
            for (name, sha) in ImportJournal.read(at: path, bundleID: m.bundleID) where stillThere(name, sha: sha, blobsByMember) {
                verified[name] = sha
            }
        }
        return m
    }

    /// A journaled member counts only while its bytes are still where it put them.
    func stillThere(_ name: String, sha: String, _ blobs: [String: BundleBlob]) -> Bool {
        guard let blob = blobs[name], let t = targets[blob.sha256] else { return false }
        if targets.held(blob.sha256, in: store) { return true }
        return blob.isSplit && FS.fileSize(partials(t.home).dataPath(t.entry.etag)) == blob.size
    }

    func partials(_ repo: RepoRef) -> PartialFolder {
        PartialFolder(directory: store.stateDirectory(repo) + "/partial-import")
    }

    func journal(for blob: BundleBlob) -> ImportJournal {
        let home = targets[blob.sha256]!.home
        if let j = journals[home] { return j }
        let j = ImportJournal(path: ImportJournal.path(store, home, bundleID: manifest!.bundleID), bundleID: manifest!.bundleID, durable: options.durable)
        journals[home] = j
        return j
    }

    // MARK: blobs

    func ingestWhole(_ blob: BundleBlob, from tar: TarReader, archive: String) throws {
        let t = targets[blob.sha256]!
        let staged = try partials(t.home).stage(t.entry)
        let hasher = ContentHasher(size: blob.size, gitBlob: !t.gitBlobIDs.isEmpty)
        // Large blobs are hashed on a second thread while the next bytes are read and written.
        let pipeline = blob.size >= Self.pipelineThreshold ? PipelinedHasher(hasher) : nil
        var offset: Int64 = 0
        do {
            try tar.readData { (slice) throws(HubError) in
                if let pipeline { pipeline.update(slice) } else { hasher.update(slice) }
                try staged.write(slice, at: offset)
                offset += Int64(slice.count)
            }
        } catch {
            _ = pipeline?.finish()
            staged.close()
            throw error
        }
        let (sha, git) = pipeline?.finish() ?? hasher.finish()
        try check(blob, t, sha: sha, git: git, staged: staged, member: BundleLayout.blobName(blob.sha256), archive: archive)
        try adopt(staged, t)
        try journal(for: blob).record(BundleLayout.blobName(blob.sha256), sha256: sha)
    }

    /// Writes a part at its offset, hashing it for the volume index (and the whole blob, when parts
    /// arrive in order); returns the part's SHA-256.
    func ingestPart(_ blob: BundleBlob, _ member: BundleMember, from tar: TarReader, archive: String) throws -> String {
        let t = targets[blob.sha256]!
        if splits[blob.sha256] == nil {
            splits[blob.sha256] = SplitBlob(staged: try partials(t.home).stage(t.entry), hasher: ContentHasher(size: blob.size, gitBlob: !t.gitBlobIDs.isEmpty))
        }
        let split = splits[blob.sha256]!
        let inOrder = split.hashedUpTo == member.offset
        let part = Digest(.sha256)
        var offset = member.offset
        try tar.readData { (slice) throws(HubError) in
            part.update(slice)
            if inOrder { split.hasher.update(slice) }
            try split.staged.write(slice, at: offset)
            offset += Int64(slice.count)
        }
        if inOrder { split.hashedUpTo = offset }
        return part.finalizeHex()
    }

    /// All parts of a split blob are verified against their indexes: hash what was not hashed in
    /// order (read back from the staged file), check the whole, adopt it.
    func finishSplit(_ blob: BundleBlob, archive: String) throws {
        let t = targets[blob.sha256]!
        let split: SplitBlob
        if let s = splits[blob.sha256] {
            split = s
        } else {
            // Its parts were verified by an earlier run: hash the whole staged file.
            split = SplitBlob(staged: try partials(t.home).stage(t.entry), hasher: ContentHasher(size: blob.size, gitBlob: !t.gitBlobIDs.isEmpty))
        }
        splits[blob.sha256] = nil
        var at = split.hashedUpTo
        while at < blob.size {
            let n = try split.staged.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(Int64(buffer.count), blob.size - at))]), at: at)
            if n == 0 { break }
            split.hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            at += Int64(n)
        }
        let (sha, git) = split.hasher.finish()
        do {
            try check(blob, t, sha: sha, git: git, staged: split.staged, member: "the parts of blobs/\(blob.sha256)", archive: archive)
        } catch {
            // Its parts are not good after all: forget them, so a rerun reads them again.
            for m in blob.members { verified[m.name] = nil }
            throw error
        }
        try adopt(split.staged, t)
    }

    func check(_ blob: BundleBlob, _ t: BlobTargets.Target, sha: String, git: String?, staged: PartialFile, member: String, archive: String) throws {
        let used = t.usedBy.joined(separator: ", ")
        if sha != blob.sha256 {
            staged.close()
            FS.removeItem(staged.path)
            throw HubError(.verification, "\(archive): \(member) does not match the manifest: its bytes hash to \(sha), not \(blob.sha256) (used by \(used)); it was not kept and nothing was published", retryable: false)
        }
        if let git, let bad = t.gitBlobIDs.first(where: { $0 != git }) {
            staged.close()
            FS.removeItem(staged.path)
            throw HubError(.verification, "\(archive): \(member) has git blob id \(git), but the manifest says \(bad) (used by \(used)); it was not kept and nothing was published", retryable: false)
        }
    }

    func adopt(_ staged: PartialFile, _ t: BlobTargets.Target) throws {
        if options.durable { try staged.syncData() }
        let home = store.target(t.home)
        try partials(t.home).adopt(staged, as: t.entry, what: "\(t.home)") { try home.adoptVerified(t.entry, from: $0) }
        for (repo, entry) in t.otherNames {
            try FS.linkOrCopy(store.blobPath(t.home, etag: t.entry.etag), store.blobPath(repo, etag: entry.etag))
        }
    }

    func checkIndex(_ bytes: [UInt8], volume: Int, of m: BundleManifest, partDigests: [String: String], archive: String) throws {
        guard let index = VolumeIndex.parse(bytes) else {
            throw HubError(.bundleFormat, "\(archive): \(BundleLayout.indexName(volume: volume)) is not in sha256sum format")
        }
        var expected: [(String, String)] = [(Digest.hex(.sha256, of: manifestBytes), BundleLayout.manifestName)]
        for b in m.blobs {
            for member in b.members where member.volume == volume {
                expected.append((b.isSplit ? partDigests[member.name] ?? "" : b.sha256, member.name))
            }
        }
        guard index.lines.count == expected.count, zip(index.lines, expected).allSatisfy({ $0.name == $1.1 }) else {
            throw HubError(.bundleFormat, "\(archive): \(BundleLayout.indexName(volume: volume)) does not list the members the manifest puts in volume \(volume)")
        }
        for (line, want) in zip(index.lines, expected) where line.sha256 != want.0 {
            throw HubError(.verification, "\(archive): entry \(line.name) hashes to \(want.0), but the index of volume \(volume) says \(line.sha256): the volume was changed; nothing was published", retryable: false)
        }
    }

    // MARK: completion and publication

    func checkComplete(_ m: BundleManifest, inputs: [String]) throws {
        var missing = Set<Int>()
        var waiting = 0
        for blob in m.blobs where !targets.held(blob.sha256, in: store) {
            waiting += 1
            for member in blob.members where verified[member.name] == nil { missing.insert(member.volume) }
        }
        guard waiting > 0 else { return }
        let base = inputs.first.flatMap { p -> String? in
            guard let dot = p.lastIndex(of: "."), Int(p[p.index(after: dot)...]) != nil else { return nil }
            return String(p[..<dot])
        }
        let names = missing.sorted().map { v in base.map { "\(v) (\(BundleLayout.volumePath($0, volume: v, of: m.volumes, split: true)))" } ?? "\(v)" }
        throw HubError(.bundleIncomplete, "bundle \(m.bundleID): volume\(names.count == 1 ? "" : "s") \(names.joined(separator: ", ")) of \(m.volumes) missing; \(waiting) blob(s) wait for them. Nothing was published; what was verified is kept: run `hubmirror import` again with the missing volume(s)")
    }

    func publish(_ m: BundleManifest) throws {
        try FS.mkdirs(store.root)
        if !FS.exists(store.root + "/CACHEDIR.TAG") { try? FS.writeAtomically(Array(CacheDirTag.text.utf8), to: store.root + "/CACHEDIR.TAG") }
        for r in m.repos {
            let target = store.target(r.repo)
            for c in r.commits {
                for e in c.entries where !target.hasContent(e) && !target.adoptFromOtherRepo(e) {
                    throw HubError(.bundleIncomplete, "cannot publish \(r.repo)@\(c.commit): the content of \(e.path) (\(e.etag)) is not in the store")
                }
            }
        }
        for r in m.repos {
            let target = store.target(r.repo)
            for c in r.commits {
                let refs = r.refs.filter { $0.value == c.commit }.map(\.key).sorted()
                let plan = Differ.plan(local: nil, remote: c)
                try target.publish(plan: plan, target: c, full: c, revision: refs.first ?? c.commit)
                for ref in refs.dropFirst() { try store.writeRef(r.repo, revision: ref, commit: c.commit) }
                report.commitsPublished += 1
                report.refsWritten += refs.count
                onEvent(.published(repo: r.repo, commit: c.commit, refs: refs))
            }
            let old = store.loadRepoInfo(r.repo)
            try store.saveRepoInfo(RepoInfo(repo: r.repo, isPrivate: r.isPrivate, gated: r.gated, endpoint: old?.endpoint,
                                            lastSync: Date().timeIntervalSince1970, tags: r.tags ?? old?.tags))
        }
    }
}

/// A blob cut into parts, while its parts arrive: the staged file and the whole-blob hasher, fed
/// as long as parts come in order.
final class SplitBlob {
    let staged: PartialFile
    let hasher: ContentHasher
    var hashedUpTo: Int64 = 0

    init(staged: PartialFile, hasher: ContentHasher) {
        self.staged = staged
        self.hasher = hasher
    }
}
