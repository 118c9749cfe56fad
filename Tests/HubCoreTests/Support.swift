import HubCore

/// A 40-hex id made from a short tag, e.g. `sha1("a")` -> "aaaa…".
func hex40(_ c: Character) -> String { String(repeating: c, count: 40) }
func hex64(_ c: Character) -> String { String(repeating: c, count: 64) }

let commitA = hex40("a")
let commitB = hex40("b")

func testRepo() -> RepoRef { RepoRef(type: .model, id: try! RepoID("acme/tiny")) }

/// A regular (non-LFS) file whose etag is its blob id.
func file(_ path: String, _ blob: Character, size: Int64 = 10) -> ManifestEntry {
    ManifestEntry(path: path, size: size, blobID: hex40(blob))
}

/// An LFS file whose etag is its sha256.
func lfsFile(_ path: String, _ sha: Character, size: Int64 = 1000) -> ManifestEntry {
    ManifestEntry(path: path, size: size, blobID: hex40("f"), lfs: LFSInfo(sha256: hex64(sha), size: size, pointerSize: 134))
}

func manifest(_ commit: String, _ entries: [ManifestEntry]) -> Manifest {
    Manifest(repo: testRepo(), commit: commit, entries: entries)
}
