public import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import HubCore
import HubDigest
public import HubStore

/// Re-reads a huggingface_hub cache and checks it against itself: every blob against the digest its
/// name promises (SHA-256 for 64-hex names, the git blob id for 40-hex ones) and the size its
/// manifests give, every snapshot link against `blobs/` and the commit's saved manifest.
///
/// Read-only. Blobs shared by hard links (across repos) are hashed once. Plain files in a snapshot
/// (the official client with symlinks disabled) and unfinished downloads (`*.incomplete`) are not
/// hubmirror's and are skipped.
public struct StoreVerifier: Sendable {
    public let store: CacheStore
    /// Blobs hashed at once.
    public var parallelism: Int

    public init(store: CacheStore, parallelism: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.store = store
        self.parallelism = max(1, parallelism)
    }

    /// Checks `repos`, or every repo of the cache when empty; `onBlob` is told each blob's size once hashed.
    public func verify(_ repos: [RepoRef] = [], onBlob: @escaping @Sendable (Int64) -> Void = { _ in }) throws -> VerifyReport {
        let started = Date()
        var report = VerifyReport()
        let inodes = Locked<[Inode: BlobDigest]>([:])
        for repo in try store.repos(selecting: repos) {
            report.repos.append(verify(repo, inodes: inodes, onBlob: onBlob))
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    struct Inode: Hashable { var dev: UInt64; var ino: UInt64 }
    struct BlobDigest: Sendable { var size: Int64; var sha256: String; var gitBlobID: String?; var chunks: ChunkDigests }

    func verify(_ repo: RepoRef, inodes: Locked<[Inode: BlobDigest]>, onBlob: @escaping @Sendable (Int64) -> Void) -> RepoVerification {
        var result = RepoVerification(repo: repo)
        let blobsDir = store.repoDirectory(repo) + "/blobs"
        let blobsReal = FS.realPath(blobsDir)

        // Snapshot links: which content each entry serves, and what the commit's manifest expects there.
        var pathsByEtag: [String: [String]] = [:]
        var expectedSize: [String: Int64] = [:]
        let snapshots = store.repoDirectory(repo) + "/snapshots"
        for commit in FS.listDirectory(snapshots).sorted() where Revision.isCommitSHA(commit) {
            let manifest = store.loadManifest(repo, commit: commit)
            let expected = Dictionary((manifest?.entries ?? []).map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            for e in manifest?.entries ?? [] { expectedSize[e.etag] = e.size }
            for rel in Self.links(under: snapshots + "/" + commit) {
                result.snapshotEntries += 1
                let link = snapshots + "/" + commit + "/" + rel
                let name = "\(commit)/\(rel)"
                let target = FS.readLink(link) ?? ""
                let etag = String(target.split(separator: "/").last ?? "")
                guard let real = FS.realPath(link) else {
                    result.findings.append(Finding(kind: .missing, etag: HexDigits.isContentHash(etag) ? etag : nil, paths: [name],
                                                   detail: "the link points at \(target), which does not exist"))
                    continue
                }
                guard let blobsReal, real == blobsReal + "/" + etag, HexDigits.isContentHash(etag) else {
                    result.findings.append(Finding(kind: .misplaced, etag: nil, paths: [name],
                                                   detail: "the link points at \(target), not at a blob of this repo"))
                    continue
                }
                if let want = expected[rel], want.etag != etag {
                    result.findings.append(Finding(kind: .misplaced, etag: etag, paths: [name],
                                                   detail: "links to blob \(etag), but the commit's manifest says \(want.etag)"))
                    continue
                }
                pathsByEtag[etag, default: []].append(name)
            }
        }

        // Blobs: hashed in parallel, each against its own name.
        let blobs = FS.listDirectory(blobsDir).filter { HexDigits.isContentHash($0) }.sorted()
        let outcomes = Locked<[String: Result<BlobDigest, HubError>]>([:])
        DispatchQueue.concurrentPerform(iterations: blobs.count) { i in
            let etag = blobs[i]
            let r = Self.digest(blobsDir + "/" + etag, gitBlob: etag.utf8.count == 40, inodes: inodes)
            if case .success(let d) = r { onBlob(d.size) }
            outcomes.withLock { $0[etag] = r }
        }
        let digests = outcomes.withLock { $0 }
        for etag in blobs {
            let paths = pathsByEtag[etag] ?? []
            switch digests[etag] {
            case .success(let d):
                result.blobsChecked += 1
                result.bytesChecked += d.size
                let actual = etag.utf8.count == 64 ? d.sha256 : (d.gitBlobID ?? "")
                if actual != etag {
                    result.findings.append(Finding(kind: .corrupt, etag: etag, paths: paths,
                                                   detail: "content hashes to \(actual), not \(etag)"))
                } else if let size = expectedSize[etag], size != d.size {
                    result.findings.append(Finding(kind: .corrupt, etag: etag, paths: paths,
                                                   detail: "\(d.size) bytes, the manifest says \(size)"))
                }
            case .failure(let e):
                result.findings.append(Finding(kind: .corrupt, etag: etag, paths: paths, detail: "cannot be read: \(e.message)"))
            case nil:
                break
            }
        }
        fillChunkDigests(repo, digests)
        return result
    }

    /// Manifests written before chunk digests existed (format 1), or by a sync that did not compute
    /// them, get them for every entry whose blob verified.
    func fillChunkDigests(_ repo: RepoRef, _ digests: [String: Result<BlobDigest, HubError>]) {
        let snapshots = store.repoDirectory(repo) + "/snapshots"
        for commit in FS.listDirectory(snapshots).sorted() where Revision.isCommitSHA(commit) {
            guard var manifest = store.loadManifest(repo, commit: commit) else { continue }
            var changed = false
            for i in manifest.entries.indices where manifest.entries[i].chunks == nil {
                let e = manifest.entries[i]
                guard case .success(let d) = digests[e.etag], d.size == e.size,
                      (e.etag.utf8.count == 64 ? d.sha256 : d.gitBlobID) == e.etag else { continue }
                manifest.entries[i].chunks = d.chunks
                if manifest.entries[i].sha256 == nil { manifest.entries[i].sha256 = d.sha256 }
                changed = true
            }
            if changed {
                manifest.formatVersion = Manifest.formatVersion
                try? store.saveManifest(manifest)
            }
        }
    }

    /// Relative paths of the symlinks below `dir` (folders are walked, never followed).
    static func links(under dir: String) -> [String] {
        var out: [String] = []
        var stack = [""]
        while let rel = stack.popLast() {
            let here = rel.isEmpty ? dir : dir + "/" + rel
            for name in FS.listDirectory(here) {
                let p = rel.isEmpty ? name : rel + "/" + name
                var st = stat()
                guard lstat(dir + "/" + p, &st) == 0 else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFDIR: stack.append(p)
                case S_IFLNK: out.append(p)
                default: break
                }
            }
        }
        return out.sorted()
    }

    /// SHA-256 and (for 40-hex names) the git blob id of a file, from `inodes` when a hard link of it was hashed already.
    static func digest(_ path: String, gitBlob: Bool, inodes: Locked<[Inode: BlobDigest]>) -> Result<BlobDigest, HubError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return .failure(FS.error("open", path)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(FS.error("stat", path)) }
        let key = Inode(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
        if let known = inodes.withLock({ $0[key] }), !gitBlob || known.gitBlobID != nil { return .success(known) }
        let size = Int64(st.st_size)
        let hasher = ContentHasher(size: size, gitBlob: gitBlob)
        // The chunk digests come in the same pass: verify fills them into manifests that lack them.
        let chunkSize = ChunkDigests.standardSize
        var chunk = Digest(.sha256)
        var chunks: [String] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let want = Int(min(Int64(buffer.count), (offset / chunkSize + 1) * chunkSize - offset))
            let n = pread(fd, buffer.baseAddress, want, off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(FS.error("read", path))
            }
            if n == 0 { break }
            let piece = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher.update(piece)
            chunk.update(piece)
            offset += Int64(n)
            if offset % chunkSize == 0 {
                chunks.append(chunk.finalizeHex())
                chunk = Digest(.sha256)
            }
        }
        if offset % chunkSize != 0 { chunks.append(chunk.finalizeHex()) }
        let d = hasher.finish()
        let digest = BlobDigest(size: offset, sha256: d.sha256, gitBlobID: d.gitBlobID, chunks: ChunkDigests(chunkSize: chunkSize, sha256: chunks))
        inodes.withLock { $0[key] = digest }
        return .success(digest)
    }
}
