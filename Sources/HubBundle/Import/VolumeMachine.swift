public import HubCore

/// Decides, member by member, what an import does with one volume, after its manifest: the order
/// the format fixes (manifest signature, the volume's blob members in manifest order, the index, the
/// index signature), and that nothing else appears. Pure: the importer carries out the actions.
public struct VolumeMachine: Sendable {
    public enum Action: Equatable, Sendable {
        case manifestSignature
        /// Read the member, checking it against the manifest while it streams.
        case ingest(blob: BundleBlob, member: BundleMember)
        /// Do not read it: an earlier run verified it, or the store already holds the blob.
        case skip(blob: BundleBlob, member: BundleMember, because: SkipReason)
        case index(volume: Int)
        case indexSignature(volume: Int)
    }

    public enum SkipReason: String, Equatable, Sendable {
        case journaled, held
    }

    enum Phase: Int { case manifest, members, index, indexSignature }

    public let manifest: BundleManifest
    public let archive: String
    /// Member names an earlier run verified (still in the store).
    let verified: Set<String>
    /// Blobs the store already holds whole.
    let held: Set<String>
    let blobsByMember: [String: (BundleBlob, BundleMember)]
    public private(set) var volume: Int?
    var expected: [BundleMember] = []
    var next = 0
    var phase = Phase.manifest
    var sawManifestSignature = false
    public private(set) var sawIndexSignature = false

    public init(manifest: BundleManifest, archive: String, verified: Set<String>, held: Set<String>) {
        self.manifest = manifest
        self.archive = archive
        self.verified = verified
        self.held = held
        var map: [String: (BundleBlob, BundleMember)] = [:]
        for b in manifest.blobs { for m in b.members { map[m.name] = (b, m) } }
        blobsByMember = map
    }

    func entryError(_ name: String, _ what: String) -> HubError {
        HubError(.bundleEntry, "\(archive): entry '\(BundleLayout.printable(name))' \(what); nothing from it is written")
    }

    /// The action for the next member, or an error naming it.
    public mutating func accept(_ header: TarHeader) throws(HubError) -> Action {
        guard header.kind == .regular else {
            let target = header.linkName.isEmpty ? "" : " (to '\(BundleLayout.printable(header.linkName))')"
            throw entryError(header.name, "is a \(header.kind.label)\(target): a bundle holds only regular files")
        }
        let role = try BundleLayout.role(of: header.name, in: archive)
        switch role {
        case .manifest:
            throw entryError(header.name, "appears twice")
        case .manifestSignature:
            guard phase == .manifest, !sawManifestSignature else { throw entryError(header.name, sawManifestSignature ? "appears twice" : "is out of place: it must follow the manifest") }
            sawManifestSignature = true
            return .manifestSignature
        case .blob, .part:
            guard let (blob, member) = blobsByMember[header.name] else {
                throw entryError(header.name, "is not listed in the bundle's manifest")
            }
            if volume == nil {
                volume = member.volume
                expected = manifest.members(inVolume: member.volume)
            }
            guard phase.rawValue <= Phase.members.rawValue, member.volume == volume else {
                throw entryError(header.name, "is out of place: the manifest puts it in volume \(member.volume), after the members of this volume")
            }
            guard next < expected.count, expected[next].name == header.name else {
                let seen = expected[..<next].contains { $0.name == header.name }
                throw entryError(header.name, seen ? "appears twice" : "is out of order: expected \(next < expected.count ? expected[next].name : "the volume index")")
            }
            guard header.size == member.size else {
                throw HubError(.bundleFormat, "\(archive): entry \(header.name) is \(header.size) bytes, the manifest says \(member.size)")
            }
            phase = .members
            next += 1
            if verified.contains(member.name) { return .skip(blob: blob, member: member, because: .journaled) }
            if held.contains(blob.sha256) { return .skip(blob: blob, member: member, because: .held) }
            return .ingest(blob: blob, member: member)
        case .index(let n):
            guard phase.rawValue <= Phase.members.rawValue else { throw entryError(header.name, "appears twice") }
            if volume == nil {
                volume = n
                expected = manifest.members(inVolume: n)
            }
            guard n == volume, n <= manifest.volumes else {
                throw entryError(header.name, "is out of place: the members before it belong to volume \(volume ?? 0) of \(manifest.volumes)")
            }
            guard next == expected.count else {
                throw HubError(.bundleFormat, "\(archive): volume \(n) lacks entry \(expected[next].name), which the manifest puts there")
            }
            phase = .index
            return .index(volume: n)
        case .indexSignature(let n):
            guard phase == .index, n == volume else { throw entryError(header.name, "is out of place: it must follow its volume index") }
            phase = .indexSignature
            sawIndexSignature = true
            return .indexSignature(volume: n)
        }
    }

    /// At the end-of-archive marker: the volume must have ended with its index.
    public func end() throws(HubError) {
        guard phase.rawValue >= Phase.index.rawValue, let volume else {
            let missing = volume.map { v in next < expected.count ? "entry \(expected[next].name) and the index of volume \(v)" : "the index of volume \(v)" } ?? "its volume index"
            throw HubError(.bundleFormat, "\(archive): truncated: the archive ends before \(missing)")
        }
        _ = volume
    }

    public var sawSignature: Bool { sawManifestSignature }
}
