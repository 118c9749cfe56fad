import Foundation
import HubBundle
import HubCore
import HubDigest
import HubFakeHub
import HubStore
import Testing

/// Every way a bundle can be damaged or forged is refused with its own documented exit code and a
/// message naming the entry; nothing is published and the store keeps its previous state.
@Suite(.serialized) struct TamperTests {
    /// Rewrites a bundle with Python's tarfile: `op` inserts an evil member after the manifest,
    /// duplicates a blob, or edits the manifest.
    static let retar = """
        import sys, tarfile, io
        src, dst, op = sys.argv[1], sys.argv[2], sys.argv[3]
        t = tarfile.open(src)
        members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
        out = tarfile.open(dst, "w", format=tarfile.PAX_FORMAT)
        def add(info, data=b""):
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            out.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
        for i, (m, data) in enumerate(members):
            if op == "manifest" and m.name.endswith("manifest.json"):
                data = data.replace(b'"isPrivate":false', b'"isPrivate":true', 1)
            add(m, data)
            if i == 0:
                if op == "dotdot": add(tarfile.TarInfo("blobs/../../evil"), b"x")
                if op == "absolute": add(tarfile.TarInfo("/tmp/evil"), b"x")
                if op == "symlink":
                    s = tarfile.TarInfo("blobs/" + "0" * 64); s.type = tarfile.SYMTYPE; s.linkname = "/etc/passwd"; add(s)
                if op == "device":
                    s = tarfile.TarInfo("blobs/" + "1" * 64); s.type = tarfile.CHRTYPE; s.devmajor = 1; s.devminor = 3; add(s)
            if op == "duplicate" and m.name.startswith("blobs/") and not any(n.name == m.name for n, _ in members[i+1:]):
                add(m, data); op = "done"
        out.close()
        """

    func retar(_ src: String, _ dst: String, _ op: String) async throws {
        let r = try await tool("python3", ["-c", Self.retar, src, dst, op])
        #expect(r.status == 0, "\(r.err)")
    }

    /// A store with tiny-model at v1.0 and a bundle of tiny-model at main, the target store holding v1.0.
    func setUp(_ hub: FakeHub, _ tmp: TempDir, sign: Bool = false) async throws -> (bundle: String, target: String) {
        try hub.loadDemo()
        let a = tmp.file("a"), b = tmp.file("b")
        try await ok(["sync", "acme/tiny-model@v1.0", "--endpoint", hub.endpoint, "--cache-dir", b])
        try await ok(["sync", "acme/tiny-model", "--endpoint", hub.endpoint, "--cache-dir", a])
        if sign { try await ok(["keygen", "--out", tmp.file("key")]) }
        try await ok(["export", "acme/tiny-model@main", "--cache-dir", a, "--out", tmp.file("b.tar")] + (sign ? ["--sign-key", tmp.file("key")] : []))
        return (tmp.file("b.tar"), b)
    }

    /// The target store is as it was: v1.0 only, main absent.
    func expectUntouched(_ target: String, _ before: [String: String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(snapshotContents(target) == before, "snapshots unchanged", sourceLocation: sourceLocation)
        #expect(CacheStore(root: target).readRef(FakeHub.Demo.model, revision: "main") == nil, "no main ref", sourceLocation: sourceLocation)
    }

    @Test func aFlippedByteInABlobIsAVerificationErrorNamingTheEntry() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let (bundle, target) = try await setUp(hub, tmp)
            let before = snapshotContents(target)
            let m = try JSON.decode(BundleManifest.self, from: try await manifestBytes(bundle))
            // A blob the target does not hold yet (held ones are not read at all).
            let held = Set(before.values)
            let fresh = try #require(m.blobs.filter { !held.contains($0.sha256) }.max { $0.size < $1.size })
            let etag = try #require(m.repos.flatMap(\.commits).flatMap(\.entries).first { $0.sha256 == fresh.sha256 }).etag
            flipByte(bundle, at: try await dataOffset(of: fresh.members[0].name, in: bundle) + fresh.size / 2)
            try await fails(["import", bundle, "--cache-dir", target], 30, naming: [fresh.sha256, "does not match"])
            expectUntouched(target, before)
            #expect(!FS.exists(CacheStore(root: target).blobPath(FakeHub.Demo.model, etag: etag)), "the bad blob is not kept")
            try await ok(["verify", "--cache-dir", target])
            try await fails(["bundle", "verify", bundle], 30, naming: [fresh.sha256])
        }
    }

    @Test func aTruncatedBundleIsAFormatError() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let (bundle, target) = try await setUp(hub, tmp)
            let before = snapshotContents(target)
            let bytes = FS.readFile(bundle)!
            try FS.writeAtomically(Array(bytes.prefix(bytes.count / 2)), to: tmp.file("cut.tar"))
            try await fails(["import", tmp.file("cut.tar"), "--cache-dir", target], 60, naming: ["truncated"])
            expectUntouched(target, before)
            try FS.writeAtomically(Array("not a tar at all\n".utf8), to: tmp.file("junk.tar"))
            try await fails(["import", tmp.file("junk.tar"), "--cache-dir", target], 60, naming: ["junk.tar"])
        }
    }

    @Test("Unsafe or unexpected entries are refused, naming them", arguments: [
        ("dotdot", "'..'"), ("absolute", "absolute"), ("symlink", "symbolic link"), ("device", "character device"), ("duplicate", "twice"),
    ])
    func unsafeEntriesAreRefused(_ op: String, _ says: String) async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let (bundle, target) = try await setUp(hub, tmp)
            let before = snapshotContents(target)
            try await retar(bundle, tmp.file("evil.tar"), op)
            try await fails(["import", tmp.file("evil.tar"), "--cache-dir", target], 61, naming: [says])
            expectUntouched(target, before)
            #expect(!FS.exists("/tmp/evil") || op != "absolute")
            #expect(!FS.exists(tmp.path + "/evil"))
        }
    }

    @Test func aChangedManifestIsCaughtByTheIndexAndByTheSignature() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let (bundle, target) = try await setUp(hub, tmp, sign: true)
            let before = snapshotContents(target)
            try await retar(bundle, tmp.file("changed.tar"), "manifest")
            // Unsigned check: the volume index holds the manifest's digest.
            try await fails(["import", tmp.file("changed.tar"), "--cache-dir", target], 30, naming: ["manifest.json"])
            expectUntouched(target, before)
            try await fails(["import", tmp.file("changed.tar"), "--cache-dir", target, "--trusted-key", tmp.file("key.pub")], 62, naming: ["not by a trusted key"])
            expectUntouched(target, before)
        }
    }

    @Test func aSignedBundleIsAcceptedAndAnUnsignedOrReSignedOneRefused() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let (bundle, target) = try await setUp(hub, tmp, sign: true)
            let before = snapshotContents(target)
            let trusted = ["--trusted-key", tmp.file("key.pub")]
            // The same content exported unsigned, and signed by another key.
            try await ok(["export", "acme/tiny-model@main", "--cache-dir", tmp.file("a"), "--out", tmp.file("unsigned.tar")])
            try await ok(["keygen", "--out", tmp.file("other")])
            try await ok(["export", "acme/tiny-model@main", "--cache-dir", tmp.file("a"), "--out", tmp.file("other.tar"), "--sign-key", tmp.file("other")])
            try await fails(["import", tmp.file("unsigned.tar"), "--cache-dir", target] + trusted, 62, naming: ["not signed"])
            try await fails(["import", tmp.file("other.tar"), "--cache-dir", target] + trusted, 62, naming: ["not by a trusted key"])
            try await fails(["bundle", "verify", tmp.file("other.tar")] + trusted, 62)
            expectUntouched(target, before)
            // A wrongly signed bundle passes once its key is trusted too (keys are repeatable).
            try await ok(["bundle", "verify", tmp.file("other.tar")] + trusted + ["--trusted-key", tmp.file("other.pub")])
            try await ok(["bundle", "verify", bundle] + trusted)
            try await ok(["import", bundle, "--cache-dir", target] + trusted)
            #expect(CacheStore(root: target).readRef(FakeHub.Demo.model, revision: "main") != nil)
            try await ok(["verify", "--cache-dir", target])
            // By hand, as Docs/bundle-format.md says.
            let x = tmp.file("x")
            try FileManager.default.createDirectory(atPath: x, withIntermediateDirectories: true)
            _ = try await tool("tar", ["-xf", bundle, "hubmirror-bundle"], cwd: x)
            let v = try await tool("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", tmp.file("key.pub"), "-rawin",
                                                "-in", x + "/hubmirror-bundle/manifest.json", "-sigfile", x + "/hubmirror-bundle/manifest.json.sig"])
            #expect(v.status == 0, "\(v.out)\(v.err)")
        }
    }
}
