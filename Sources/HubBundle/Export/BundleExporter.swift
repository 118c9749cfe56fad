public import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HubCore
public import HubDigest
public import HubStore

/// `hubmirror export`: streams the selected repos from the store into one tar, or into volumes of a
/// chosen size, with bounded memory and no staging copy (blob bytes go from the store file to the
/// output with `sendfile`, or through one buffer).
public struct BundleExporter {
    public struct Options: Sendable {
        /// `PATH`, or `-` for stdout (one volume only).
        public var out: String
        public var volumeSize: Int64?
        public var since: (state: StoreState, sha256: String)?
        public var signingKey: Ed25519.PrivateKey?
        public var durable = true

        public init(out: String, volumeSize: Int64? = nil, since: (state: StoreState, sha256: String)? = nil, signingKey: Ed25519.PrivateKey? = nil) {
            self.out = out
            self.volumeSize = volumeSize
            self.since = since
            self.signingKey = signingKey
        }
    }

    /// What an export wrote.
    public struct Result: Sendable {
        public var manifest: BundleManifest
        public var paths: [String]
        public var bytesWritten: Int64
        public var blobsLeftOut: Int
    }

    public let store: CacheStore
    public let options: Options

    public init(store: CacheStore, options: Options) {
        self.store = store
        self.options = options
    }

    public func export(_ selections: [ExportContent.Selection], now: Date = Date()) throws -> Result {
        let content = try ExportContent.read(store, selecting: selections)
        // Blobs the far side holds stay out; the manifests and refs still go.
        var leftOut = Set<String>()
        if let since = options.since {
            for r in content.repos {
                for c in r.commits {
                    for e in c.entries where since.state.holds(e) { leftOut.insert(e.sha256!) }
                }
            }
        }
        let carried = content.order.filter { !leftOut.contains($0) }.map { VolumePlan.Blob(sha256: $0, size: content.sources[$0]!.size) }
        let bundleID = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255) })
        let created = BundleClock.iso8601(now)
        let since = options.since.map { SinceState(sha256: $0.sha256, created: $0.state.created, blobsLeftOut: leftOut.count) }
        let signed = options.signingKey != nil
        func manifest(_ blobs: [BundleBlob]) -> BundleManifest {
            let volumes = blobs.flatMap(\.members).map(\.volume).max() ?? 1
            return BundleManifest(bundleID: bundleID, created: created, since: since, volumes: volumes, volumeSize: options.volumeSize,
                                  repos: content.repos, blobs: blobs)
        }
        let placed = try VolumePlan.place(carried, volumeSize: options.volumeSize) { (placed) throws(HubError) -> [Int64] in
            let m = manifest(placed)
            let manifestBytes = Int64((try? JSON.encode(m))?.count ?? 0)
            return (1...m.volumes).map { v in
                Self.metadataSize(manifestBytes: manifestBytes, volume: v, names: m.members(inVolume: v).map(\.name), signed: signed)
            }
        }
        let m = manifest(placed)
        if options.out == "-" && m.volumes > 1 {
            throw HubError(.usage, "--out - writes one stream, but this bundle needs \(m.volumes) volumes of --volume-size \(ByteSize.format(options.volumeSize ?? 0)); write to a file")
        }
        let manifestBytes = try JSON.encode(m)
        let manifestSignature = try options.signingKey.map { key in try sign(manifestBytes, key) }
        let split = options.volumeSize != nil
        var paths: [String] = []
        var written: Int64 = 0
        for v in 1...m.volumes {
            let path = BundleLayout.volumePath(options.out, volume: v, of: m.volumes, split: split)
            written += try writeVolume(v, of: m, manifestBytes: manifestBytes, manifestSignature: manifestSignature, content: content, to: path, mtime: Int64(now.timeIntervalSince1970))
            paths.append(path)
        }
        return Result(manifest: m, paths: paths, bytesWritten: written, blobsLeftOut: leftOut.count)
    }

    /// Bytes of a volume's own members: manifest, index and their signatures, and the end marker.
    static func metadataSize(manifestBytes: Int64, volume: Int, names: [String], signed: Bool) -> Int64 {
        var n = TarHeader.memberSize(name: BundleLayout.manifestName, size: manifestBytes)
        n += TarHeader.memberSize(name: BundleLayout.indexName(volume: volume), size: VolumeIndex.size(names: [BundleLayout.manifestName] + names))
        if signed {
            n += TarHeader.memberSize(name: BundleLayout.manifestSignatureName, size: Int64(Ed25519.signatureSize))
            n += TarHeader.memberSize(name: BundleLayout.indexSignatureName(volume: volume), size: Int64(Ed25519.signatureSize))
        }
        return n + TarWriter.trailerSize
    }

    func sign(_ bytes: [UInt8], _ key: Ed25519.PrivateKey) throws -> [UInt8] {
        do { return try key.sign(bytes) } catch { throw HubError(.store, "cannot sign the bundle: \(error)") }
    }

    /// Writes volume `v` to `path`; a file appears under its name only once it is complete (it is
    /// written beside it first), so a failed export leaves no volume that looks whole.
    func writeVolume(_ v: Int, of m: BundleManifest, manifestBytes: [UInt8], manifestSignature: [UInt8]?, content: ExportContent,
                     to path: String, mtime: Int64) throws -> Int64 {
        if path == "-" {
            return try writeVolume(v, of: m, manifestBytes: manifestBytes, manifestSignature: manifestSignature, content: content,
                                   into: try OutputStream(path: path), mtime: mtime)
        }
        let tmp = "\(path).partial-\(getpid())"
        do {
            let n = try writeVolume(v, of: m, manifestBytes: manifestBytes, manifestSignature: manifestSignature, content: content,
                                    into: try OutputStream(path: tmp), mtime: mtime)
            try FS.renameItem(tmp, path)
            return n
        } catch {
            FS.removeItem(tmp)
            throw error
        }
    }

    func writeVolume(_ v: Int, of m: BundleManifest, manifestBytes: [UInt8], manifestSignature: [UInt8]?, content: ExportContent,
                     into out: OutputStream, mtime: Int64) throws -> Int64 {
        let tar = TarWriter(out, mtime: mtime)
        try tar.add(BundleLayout.manifestName, manifestBytes)
        if let manifestSignature { try tar.add(BundleLayout.manifestSignatureName, manifestSignature) }
        var index = VolumeIndex(lines: [(Digest.hex(.sha256, of: manifestBytes), BundleLayout.manifestName)])
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        for blob in m.blobs {
            for member in blob.members where member.volume == v {
                let source = content.sources[blob.sha256]!
                let whole = member.offset == 0 && member.size == blob.size
                // A whole blob's digest is the manifest's; only parts are hashed on the way.
                let hasher: Digest? = whole ? nil : Digest(.sha256)
                try tar.begin(member.name, size: member.size)
                try copy(from: source.path, offset: member.offset, count: member.size, into: tar, hasher: hasher, buffer: buffer)
                try tar.end()
                index.lines.append((hasher?.finalizeHex() ?? blob.sha256, member.name))
            }
        }
        let indexBytes = index.text
        try tar.add(BundleLayout.indexName(volume: v), indexBytes)
        if let key = options.signingKey { try tar.add(BundleLayout.indexSignatureName(volume: v), try sign(indexBytes, key)) }
        try tar.finish()
        try out.finish(durable: options.durable)
        if let size = options.volumeSize, out.offset > size {
            preconditionFailure("volume \(v) is \(out.offset) bytes, more than the planned \(size)")
        }
        return out.offset
    }

    /// Copies `count` bytes of the store file at `path` from `offset` into the open member.
    func copy(from path: String, offset: Int64, count: Int64, into tar: TarWriter, hasher: Digest?, buffer: UnsafeMutableRawBufferPointer) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FS.error("open", path) }
        defer { close(fd) }
        posix_fadvise(fd, off_t(offset), off_t(count), POSIX_FADV_SEQUENTIAL)
        var done: Int64 = 0
        if hasher == nil {
            // Straight from the page cache to the output, no copy through user space.
            done = try tar.sendFile(fd, offset: offset, count: count)
        }
        while done < count {
            let want = Int(min(Int64(buffer.count), count - done))
            let n = pread(fd, buffer.baseAddress, want, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FS.error("read", path)
            }
            if n == 0 { throw HubError(.damaged, "\(path) ended at \(offset + done) bytes while it was exported (\(offset + count) expected); run `hubmirror verify`") }
            let slice = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher?.update(slice)
            try tar.write(slice)
            done += Int64(n)
        }
    }
}
