import HubCore
import HubDigest

/// `hubmirror bundle verify VOL…` and `bundle ls`: checks one volume on its own, writing nothing:
/// its manifest parses and (with trusted keys) is signed, every member is where the manifest puts
/// it and hashes to what the signed volume index says, and whole blobs to their manifest digest.
public struct VolumeVerifier {
    /// What one volume holds, once checked.
    public struct Summary: Sendable {
        public var path: String
        public var manifest: BundleManifest
        public var volume: Int
        public var members: Int
        public var bytes: Int64
        public var signed: Bool
    }

    public let trust: TrustPolicy

    public init(trust: TrustPolicy) { self.trust = trust }

    /// Reads the manifest only (the first member).
    public static func manifest(at path: String) throws -> BundleManifest {
        let tar = TarReader(try InputStream(path: path), bufferSize: 64 << 10)
        guard let first = try tar.next(), first.header.kind == .regular, first.name == BundleLayout.manifestName else {
            throw HubError(.bundleFormat, "\(path): the first entry is not \(BundleLayout.manifestName): not a hubmirror bundle")
        }
        let m = try BundleCheck.decode(try tar.readAll(limit: BundleCheck.manifestLimit), in: path)
        try BundleCheck.validate(m, in: path)
        return m
    }

    public func verify(_ path: String) throws -> Summary {
        let tar = TarReader(try InputStream(path: path))
        guard let first = try tar.next(), first.header.kind == .regular, first.name == BundleLayout.manifestName else {
            throw HubError(.bundleFormat, "\(path): the first entry is not \(BundleLayout.manifestName): not a hubmirror bundle")
        }
        let manifestBytes = try tar.readAll(limit: BundleCheck.manifestLimit)
        let m = try BundleCheck.decode(manifestBytes, in: path)
        try BundleCheck.validate(m, in: path)
        var machine = VolumeMachine(manifest: m, archive: path, verified: [], held: [])
        var manifestSignature: [UInt8]?
        var digests: [(String, String)] = [(Digest.hex(.sha256, of: manifestBytes), BundleLayout.manifestName)]
        var indexBytes: [UInt8]?
        var summary = Summary(path: path, manifest: m, volume: 0, members: 0, bytes: 0, signed: false)
        while let member = try tar.next() {
            switch try machine.accept(member.header) {
            case .manifestSignature:
                manifestSignature = try tar.readAll(limit: 1024)
            case .ingest(let blob, let member), .skip(let blob, let member, _):
                let d = Digest(.sha256)
                try tar.readData { d.update($0) }
                let sha = d.finalizeHex()
                if !blob.isSplit && sha != blob.sha256 {
                    throw HubError(.verification, "\(path): entry \(member.name) hashes to \(sha), not to the manifest's \(blob.sha256)", retryable: false)
                }
                digests.append((sha, member.name))
                summary.members += 1
                summary.bytes += member.size
            case .index(let v):
                let b = try tar.readAll(limit: BundleCheck.manifestLimit)
                guard let index = VolumeIndex.parse(b) else { throw HubError(.bundleFormat, "\(path): \(member.name) is not in sha256sum format") }
                for (line, want) in zip(index.lines, digests) where line.name != want.1 || line.sha256 != want.0 {
                    throw HubError(.verification, "\(path): entry \(want.1) hashes to \(want.0), but the index of volume \(v) says \(line.sha256) for \(line.name)", retryable: false)
                }
                guard index.lines.count == digests.count else { throw HubError(.bundleFormat, "\(path): the index of volume \(v) lists \(index.lines.count) members, the volume has \(digests.count)") }
                indexBytes = b
                summary.volume = v
            case .indexSignature(let v):
                let sig = try tar.readAll(limit: 1024)
                try trust.check(sig, of: indexBytes ?? [], what: "the index of volume \(v)", archive: path)
                summary.signed = manifestSignature != nil
            }
        }
        try machine.end()
        try trust.check(manifestSignature, of: manifestBytes, what: "the manifest", archive: path)
        if !machine.sawIndexSignature { try trust.check(nil, of: [], what: "the index of volume \(summary.volume)", archive: path) }
        return summary
    }
}
