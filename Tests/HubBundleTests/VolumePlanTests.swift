import HubBundle
import HubCore
import Testing

/// Placing blobs into volumes: pure.
@Suite struct VolumePlanTests {
    func sha(_ i: Int) -> String { String(repeating: String(i % 10), count: 64) }

    @Test func blobsFillVolumesAndOnlyThoseLargerThanAVolumeAreCut() throws {
        let size: Int64 = 1 << 20
        let blobs = [VolumePlan.Blob(sha256: sha(1), size: 300_000), VolumePlan.Blob(sha256: sha(2), size: 600_000),
                     VolumePlan.Blob(sha256: sha(3), size: 3_500_000), VolumePlan.Blob(sha256: sha(4), size: 10)]
        let placed = try VolumePlan.place(blobs, volumeSize: size) { placed in
            let volumes = placed.flatMap(\.members).map(\.volume).max() ?? 1
            return Array(repeating: 20_000, count: volumes)
        }
        #expect(placed[0].members.count == 1 && placed[0].members[0].volume == 1)
        #expect(placed[1].members.count == 1 && placed[1].members[0].volume == 1)
        #expect(placed[2].members.count >= 4, "3.5 MB in 1 MiB volumes is cut")
        #expect(placed[2].members.map(\.size).reduce(0, +) == 3_500_000)
        #expect(placed[2].members.first?.name.hasSuffix(".part-0001") == true)
        // Parts are contiguous and each volume holds at most its size.
        var offset: Int64 = 0
        for m in placed[2].members { #expect(m.offset == offset); offset += m.size }
        var used: [Int: Int64] = [:]
        for b in placed { for m in b.members { used[m.volume, default: 0] += TarHeader.memberSize(name: m.name, size: m.size) } }
        for (v, bytes) in used { #expect(bytes + 20_000 + 8192 <= size + 8192, "volume \(v) holds \(bytes)") }
        // No volume size: one volume, nothing cut.
        let one = try VolumePlan.place(blobs, volumeSize: nil) { _ in [0] }
        #expect(one.allSatisfy { $0.members.count == 1 && $0.members[0].volume == 1 })
    }

    @Test func aVolumeTooSmallForItsMetadataIsAUsageError() {
        let e = #expect(throws: HubError.self) {
            try VolumePlan.place([VolumePlan.Blob(sha256: sha(1), size: 10)], volumeSize: 1 << 20) { _ in [2 << 20] }
        }
        #expect(e?.kind == .usage && e?.message.contains("--volume-size") == true)
    }
}
