import Foundation
import HubBundle
import HubCore
import HubDigest
import HubFakeHub
import HubStore
import Testing

/// export → import through the real binary: identical snapshots and refs, a store that verifies and
/// exports onward; GNU tar reads the bundle; incremental bundles; volumes; stdin/stdout.
@Suite(.serialized) struct RoundTripTests {
    @Test func aBundleImportsIntoAnEmptyStoreWithIdenticalSnapshotsAndRefs() async throws {
        try await FakeHub.withHub { hub in
            try hub.loadDemo()
            let tmp = TempDir()
            let a = tmp.file("a"), b = tmp.file("b")
            try await demoStore(hub, at: a)
            try await ok(["export", "--cache-dir", a, "--out", tmp.file("all.tar")])
            let r = try await ok(["import", tmp.file("all.tar"), "--cache-dir", b])
            #expect(r.out.contains("published"), "\(r.out)")
            #expect(snapshotContents(b) == snapshotContents(a))
            #expect(snapshotContents(b).count >= 10)
            #expect(refsOf(b) == refsOf(a))
            #expect(FS.exists(b + "/CACHEDIR.TAG"))
            try await ok(["verify", "--cache-dir", b])
            // The imported store exports onward, and that bundle imports the same again.
            try await ok(["export", "--cache-dir", b, "--out", tmp.file("onward.tar")])
            try await ok(["import", tmp.file("onward.tar"), "--cache-dir", tmp.file("c")])
            #expect(snapshotContents(tmp.file("c")) == snapshotContents(a))
            // Importing again changes nothing and reads no blob.
            let again = try await ok(["import", tmp.file("all.tar"), "--cache-dir", b])
            #expect(again.out.contains("0 entries verified") && again.out.contains("the store already held"), "\(again.out)")
        }
    }

    @Test func gnuTarExtractsTheBundleAndSha256sumMatchesTheManifestAndIndex() async throws {
        try await FakeHub.withHub { hub in
            try hub.loadDemo()
            let tmp = TempDir()
            try await ok(["sync", "acme/tiny-model", "--endpoint", hub.endpoint, "--cache-dir", tmp.file("a")])
            try await ok(["export", "acme/tiny-model", "--cache-dir", tmp.file("a"), "--out", tmp.file("b.tar")])
            let list = try await tool("tar", ["-tf", tmp.file("b.tar")])
            let names = list.out.split(separator: "\n").map(String.init)
            #expect(names.first == "hubmirror-bundle/manifest.json")
            #expect(names.last == "hubmirror-bundle/volume-001.sha256")
            let x = tmp.file("x")
            try FileManager.default.createDirectory(atPath: x, withIntermediateDirectories: true)
            let ex = try await tool("tar", ["-xf", tmp.file("b.tar")], cwd: x)
            #expect(ex.status == 0, "\(ex.err)")
            let check = try await tool("sha256sum", ["-c", "--strict", "hubmirror-bundle/volume-001.sha256"], cwd: x)
            #expect(check.status == 0, "\(check.out)\(check.err)")
            let m = try JSON.decode(BundleManifest.self, from: FS.readFile(x + "/hubmirror-bundle/manifest.json")!)
            let sums = try await tool("sha256sum", m.blobs.map { "blobs/" + $0.sha256 }, cwd: x)
            for line in sums.out.split(separator: "\n") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                #expect("blobs/" + parts[0] == parts[1], "sha256sum of \(parts[1]) is its name")
            }
            #expect(m.blobs.count == names.filter { $0.hasPrefix("blobs/") }.count)
            let bsd = try await tool("bsdtar", ["-tf", tmp.file("b.tar")])
            #expect(bsd.out == list.out, "\(bsd.err)")
        }
    }

    @Test func anIncrementalBundleCarriesOnlyTheBlobsTheFarSideLacks() async throws {
        try await FakeHub.withHub { hub in
            let demo = try hub.loadDemo()
            let tmp = TempDir()
            let a = tmp.file("a"), b = tmp.file("b")
            try await ok(["sync", "acme/tiny-model@v1.0", "--endpoint", hub.endpoint, "--cache-dir", a])
            try await ok(["export", "--cache-dir", a, "--out", tmp.file("full.tar")])
            try await ok(["import", tmp.file("full.tar"), "--cache-dir", b])
            try await ok(["state", "--cache-dir", b, "--out", tmp.file("b.state")])
            try await ok(["sync", "acme/tiny-model", "--endpoint", hub.endpoint, "--cache-dir", a])
            try await ok(["export", "--cache-dir", a, "--since", tmp.file("b.state"), "--out", tmp.file("inc.tar")])
            let inc = try JSON.decode(BundleManifest.self, from: try await manifestBytes(tmp.file("inc.tar")))
            // Only the contents main added (README v2, vocab.txt; the moved tokenizer is the same bytes).
            let v1 = Set(hub.files(FakeHub.Demo.model, demo.commit1).values.map(\.sha256))
            let main = Set(hub.files(FakeHub.Demo.model, demo.commit2).values.map(\.sha256))
            #expect(Set(inc.blobs.map(\.sha256)) == main.subtracting(v1))
            #expect(inc.since?.blobsLeftOut ?? 0 > 0)
            #expect(FS.fileSize(tmp.file("inc.tar"))! < FS.fileSize(tmp.file("full.tar"))! / 4)
            try await ok(["import", tmp.file("inc.tar"), "--cache-dir", b])
            #expect(snapshotContents(b) == snapshotContents(a))
            #expect(refsOf(b) == refsOf(a))
            // Into a store that lacks the rest, it is refused, naming a file, and nothing is published.
            let r = try await fails(["import", tmp.file("inc.tar"), "--cache-dir", tmp.file("empty")], 63, naming: ["neither in the bundle nor in the store"])
            #expect(r.err.contains("acme/tiny-model"))
            #expect(snapshotContents(tmp.file("empty")).isEmpty)
        }
    }

    @Test func volumesCheckAloneAndImportInAnyOrderAndAMissingOneIsNamed() async throws {
        try await FakeHub.withHub { hub in
            try hub.loadDemo()
            let tmp = TempDir()
            let a = tmp.file("a")
            try await demoStore(hub, at: a)
            let r = try await ok(["export", "--cache-dir", a, "--out", tmp.file("v"), "--volume-size", "1M"])
            let volumes = FS.listDirectory(tmp.path).filter { $0.hasPrefix("v.") }.map { tmp.file($0) }
            #expect(volumes.count >= 4, "3 MiB of model in 1 MiB volumes: \(r.out)")
            for v in volumes {
                #expect(FS.fileSize(v)! <= 1 << 20, "\(v) within the volume size")
                let check = try await ok(["bundle", "verify", v])
                #expect(check.out.contains("ok"), "\(check.out)")
                let list = try await tool("tar", ["-tf", v])
                #expect(list.status == 0 && list.out.hasPrefix("hubmirror-bundle/manifest.json\n"), "\(list.err)")
            }
            let m = try JSON.decode(BundleManifest.self, from: try await manifestBytes(volumes[0]))
            #expect(m.blobs.contains { $0.members.count > 1 }, "the 3 MiB model file is cut into parts")
            let ls = try await ok(["bundle", "ls", volumes[0]])
            #expect(ls.out.contains(".part-0001") && ls.out.contains("ref main"), "\(ls.out)")
            // One volume missing: named, nothing published; the others are kept verified.
            let b = tmp.file("b")
            let missing = volumes[1]
            try await fails(["import"] + volumes.filter { $0 != missing }.reversed() + ["--cache-dir", b], 63, naming: [(missing as NSString).lastPathComponent])
            #expect(snapshotContents(b).isEmpty)
            let rest = try await ok(["import", missing, "--cache-dir", b] + volumes.filter { $0 != missing })
            #expect(rest.out.contains("verified by an earlier run"), "\(rest.out)")
            #expect(snapshotContents(b) == snapshotContents(a))
            // The base name stands for all volumes.
            try await ok(["import", tmp.file("v"), "--cache-dir", tmp.file("c")])
            #expect(snapshotContents(tmp.file("c")) == snapshotContents(a))
            try await ok(["verify", "--cache-dir", tmp.file("c")])
        }
    }

    @Test func exportToStdoutPipesIntoImportFromStdin() async throws {
        try await FakeHub.withHub { hub in
            try hub.loadDemo()
            let tmp = TempDir()
            try await ok(["sync", "acme/tiny-model", "--endpoint", hub.endpoint, "--cache-dir", tmp.file("a")])
            let sh = try await tool("bash", ["-o", "pipefail", "-c",
                "\"$0\" export --cache-dir \"$1\" --out - | \"$0\" import - --cache-dir \"$2\"", builtExecutable("hubmirror"), tmp.file("a"), tmp.file("b")])
            #expect(sh.status == 0, "\(sh.err)")
            #expect(snapshotContents(tmp.file("b")) == snapshotContents(tmp.file("a")))
            #expect(!snapshotContents(tmp.file("b")).isEmpty)
        }
    }
}

/// The manifest member of a bundle file, read with GNU tar.
func manifestBytes(_ path: String) async throws -> [UInt8] {
    let r = try await tool("tar", ["-xOf", path, "hubmirror-bundle/manifest.json"])
    return [UInt8](r.outBytes)
}
