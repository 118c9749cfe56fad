import HubBundle
import HubCore
import Testing

/// The member-by-member decisions of an import, with no I/O.
@Suite struct VolumeMachineTests {
    static let a = String(repeating: "a", count: 64), b = String(repeating: "b", count: 64), c = String(repeating: "c", count: 64)

    /// Volume 1: blob a whole; volume 2: part 1 of c, then blob b.
    static let manifest = BundleManifest(bundleID: String(repeating: "0", count: 32), created: "", since: nil, volumes: 3, volumeSize: 1 << 20, repos: [], blobs: [
        BundleBlob(sha256: a, size: 10, members: [BundleMember(name: "blobs/" + a, volume: 1, offset: 0, size: 10)]),
        BundleBlob(sha256: c, size: 30, members: [BundleMember(name: "blobs/\(c).part-0001", volume: 2, offset: 0, size: 20),
                                                  BundleMember(name: "blobs/\(c).part-0002", volume: 3, offset: 20, size: 10)]),
        BundleBlob(sha256: b, size: 5, members: [BundleMember(name: "blobs/" + b, volume: 2, offset: 0, size: 5)]),
    ])

    func header(_ name: String, _ size: Int64 = 0, _ kind: TarHeader.Kind = .regular) -> TarHeader { TarHeader(name: name, size: size, kind: kind) }

    @Test func aVolumeIsItsMembersInManifestOrderThenItsIndex() throws {
        var m = VolumeMachine(manifest: Self.manifest, archive: "v.002", verified: ["blobs/\(Self.c).part-0001"], held: [Self.b])
        #expect(try m.accept(header("hubmirror-bundle/manifest.json.sig", 64)) == .manifestSignature)
        guard case .skip(_, _, .journaled) = try m.accept(header("blobs/\(Self.c).part-0001", 20)) else { Issue.record("journaled part not skipped"); return }
        guard case .skip(_, _, .held) = try m.accept(header("blobs/" + Self.b, 5)) else { Issue.record("held blob not skipped"); return }
        #expect(m.volume == 2)
        #expect(try m.accept(header("hubmirror-bundle/volume-002.sha256", 100)) == .index(volume: 2))
        #expect(try m.accept(header("hubmirror-bundle/volume-002.sha256.sig", 64)) == .indexSignature(volume: 2))
        try m.end()
    }

    @Test func outOfPlaceTwiceWrongSizeOrMissingMembersAreRefused() throws {
        func kind(_ body: (inout VolumeMachine) throws -> Void) -> HubError.Kind? {
            var m = VolumeMachine(manifest: Self.manifest, archive: "v", verified: [], held: [])
            do { try body(&m); return nil } catch let e as HubError { return e.kind } catch { return nil }
        }
        // Blob b before part 1 of c in volume 2.
        #expect(kind { _ = try $0.accept(header("blobs/\(Self.c).part-0001", 20)); _ = try $0.accept(header("blobs/" + Self.a, 10)) } == .bundleEntry)
        #expect(kind { _ = try $0.accept(header("blobs/" + Self.a, 10)); _ = try $0.accept(header("blobs/" + Self.a, 10)) } == .bundleEntry)
        #expect(kind { _ = try $0.accept(header("blobs/" + Self.a, 11)) } == .bundleFormat)
        #expect(kind { _ = try $0.accept(header("blobs/" + String(repeating: "d", count: 64), 1)) } == .bundleEntry)
        #expect(kind { _ = try $0.accept(header("hubmirror-bundle/volume-002.sha256", 1)) } == .bundleFormat, "volume 2 without its members")
        #expect(kind { _ = try $0.accept(header("blobs/" + Self.a, 10)); try $0.end() } == .bundleFormat, "ends before its index")
        #expect(kind { _ = try $0.accept(header("blobs/" + Self.a, 0, .symbolicLink)) } == .bundleEntry)
        #expect(kind { _ = try $0.accept(header("hubmirror-bundle/manifest.json", 5)) } == .bundleEntry)
    }

    @Test func memberNamesOutsideTheLayoutAreRefusedBeforeAnythingElse() throws {
        for bad in ["../x", "/etc/passwd", "blobs/../../x", "blobs//x", "a\u{1}b", "blobs\\x", "blobs/" + String(repeating: "A", count: 64),
                    "blobs/\(Self.a).part-1", "hubmirror-bundle/volume-1.sha256", "other.txt", ""] {
            #expect(throws: HubError.self, "\(bad)") { try BundleLayout.role(of: bad, in: "v") }
        }
        #expect(try BundleLayout.role(of: "blobs/\(Self.a).part-0012", in: "v") == .part(sha256: Self.a, part: 12))
        #expect(try BundleLayout.role(of: "hubmirror-bundle/volume-1234.sha256.sig", in: "v") == .indexSignature(volume: 1234))
    }
}
