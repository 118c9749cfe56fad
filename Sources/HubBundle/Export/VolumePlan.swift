public import HubCore

/// Where every blob goes: which volume, whole or cut into parts. Pure. Each volume is laid out as
/// `manifest.json`, `manifest.json.sig`?, its members, `volume-NNN.sha256`, `volume-NNN.sha256.sig`?,
/// end-of-archive; `--volume-size` bounds the whole file.
public enum VolumePlan {
    public struct Blob: Sendable, Equatable {
        public var sha256: String
        public var size: Int64
        public init(sha256: String, size: Int64) {
            self.sha256 = sha256
            self.size = size
        }
    }

    /// Places `blobs` in order. Without a volume size everything goes in volume 1. With one, a blob
    /// that does not fit in what is left of the current volume goes whole into the next one if it
    /// fits in an empty volume, and is otherwise cut: its parts fill what is left of this volume and
    /// the next ones. `metadata(volume)` is the bytes of that volume's own members (manifest, index,
    /// signatures, end-of-archive) which the volume size must also hold; `metadata(placed)` gives it
    /// for each volume of a placement, in volume order.
    public static func place(_ blobs: [Blob], volumeSize: Int64?, metadata: (_ placed: [BundleBlob]) throws(HubError) -> [Int64]) throws(HubError) -> [BundleBlob] {
        guard let volumeSize else {
            return blobs.map { BundleBlob(sha256: $0.sha256, size: $0.size, members: [BundleMember(name: BundleLayout.blobName($0.sha256), volume: 1, offset: 0, size: $0.size)]) }
        }
        // The metadata depends on the placement (the index lists the volume's members): reserve,
        // place, and grow the reserve until every volume's metadata fits in it.
        var reserve: Int64 = 8192
        for _ in 0..<8 {
            let placed = try placeOnce(blobs, capacity: volumeSize - reserve, volumeSize: volumeSize)
            let worst = try metadata(placed).max() ?? 0
            if worst <= reserve { return placed }
            reserve = worst + 4096
        }
        throw HubError(.usage, "--volume-size \(ByteSize.format(volumeSize)) leaves no room next to the bundle's own manifest and indexes; use a larger size")
    }

    static func placeOnce(_ blobs: [Blob], capacity: Int64, volumeSize: Int64) throws(HubError) -> [BundleBlob] {
        let block = Int64(TarHeader.blockSize)
        // A part smaller than this is not worth a member of its own: start the next volume instead.
        let minimumPart = 4 * block
        guard capacity >= TarHeader.memberSize(name: BundleLayout.partName(String(repeating: "0", count: 64), part: 9999), size: minimumPart) else {
            throw HubError(.usage, "--volume-size \(ByteSize.format(volumeSize)) is too small: the manifest and index of a volume alone need about \(ByteSize.format(volumeSize - capacity))")
        }
        var volume = 1
        var left = capacity
        var out: [BundleBlob] = []
        for b in blobs {
            let whole = TarHeader.memberSize(name: BundleLayout.blobName(b.sha256), size: b.size)
            if whole <= left {
                out.append(BundleBlob(sha256: b.sha256, size: b.size, members: [BundleMember(name: BundleLayout.blobName(b.sha256), volume: volume, offset: 0, size: b.size)]))
                left -= whole
                continue
            }
            if whole <= capacity {
                volume += 1
                left = capacity - whole
                out.append(BundleBlob(sha256: b.sha256, size: b.size, members: [BundleMember(name: BundleLayout.blobName(b.sha256), volume: volume, offset: 0, size: b.size)]))
                continue
            }
            var members: [BundleMember] = []
            var offset: Int64 = 0
            while offset < b.size {
                let name = BundleLayout.partName(b.sha256, part: members.count + 1)
                let header = TarHeader.memberSize(name: name, size: 0)
                if left - header < minimumPart {
                    volume += 1
                    left = capacity
                }
                // Data of whole blocks only, so the padding never pushes a member past the volume.
                let room = (left - header) / block * block
                var n = min(room, b.size - offset)
                // A part past 8 GiB needs a pax header too.
                while TarHeader.memberSize(name: name, size: n) > left { n -= block }
                members.append(BundleMember(name: name, volume: volume, offset: offset, size: n))
                left -= TarHeader.memberSize(name: name, size: n)
                offset += n
            }
            out.append(BundleBlob(sha256: b.sha256, size: b.size, members: members))
        }
        return out
    }
}
