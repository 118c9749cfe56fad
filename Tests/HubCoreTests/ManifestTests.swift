import Testing
import Foundation
import HubCore

@Suite struct ManifestTests {
    @Test func etagIsBlobIDOrLFSSha() {
        let plain = file("a.txt", "1")
        #expect(plain.etag == hex40("1"))
        #expect(!plain.isLFS)
        #expect(plain.sha256 == nil)
        let big = lfsFile("w.bin", "2")
        #expect(big.etag == hex64("2"))
        #expect(big.isLFS)
        #expect(big.sha256 == hex64("2"), "sha256 defaults to the LFS oid")
        let explicit = ManifestEntry(path: "x", size: 1, blobID: hex40("3"), sha256: hex64("9"))
        #expect(explicit.sha256 == hex64("9"))
        #expect(explicit.etag == hex40("3"))
    }

    @Test func entriesAreSortedAndLookedUp() {
        let m = manifest(commitA, [file("z", "1", size: 1), file("a/b", "2", size: 2), file("m", "3", size: 3), file("a", "4", size: 4)])
        #expect(m.entries.map(\.path) == ["a", "a/b", "m", "z"])
        #expect(m.totalBytes == 10)
        #expect(m.formatVersion == Manifest.formatVersion)
        for e in m.entries { #expect(m.entry(at: e.path) == e) }
        #expect(m.entry(at: "b") == nil)
        #expect(m.entry(at: "") == nil)
        #expect(m.entry(at: "zz") == nil)
        #expect(m.entry(at: "A") == nil)
        #expect(manifest(commitA, []).entry(at: "a") == nil)
    }

    @Test func filtered() {
        let m = manifest(commitA, [file("README.md", "1"), file("config.json", "2"), file("sub/a.json", "3"), file("w.bin", "4")])
        let f = m.filtered(PathFilter(include: ["*.json"], exclude: ["sub/"]))
        #expect(f.entries.map(\.path) == ["config.json"])
        #expect(f.commit == m.commit)
        #expect(f.repo == m.repo)
        #expect(m.filtered(PathFilter()) == m)
        #expect(m.filtered(PathFilter(include: ["nothing"])).entries.isEmpty)
    }

    @Test func codableRoundTrip() throws {
        let m = manifest(commitA, [file("README.md", "1"), lfsFile("w.bin", "2")])
        let back = try JSONDecoder().decode(Manifest.self, from: try JSONEncoder().encode(m))
        #expect(back == m)
    }
}
