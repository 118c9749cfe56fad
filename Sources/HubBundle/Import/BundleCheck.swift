import Foundation
public import HubCore
import HubDigest
import HubStore

/// The checks a manifest passes before anything is written: known format and version, safe repo
/// ids, ref names and file paths, full commit shas, every file with a SHA-256 that matches its LFS
/// oid, and a member layout that covers every blob exactly once. Pure.
public enum BundleCheck {
    /// Largest manifest a reader takes into memory.
    public static let manifestLimit: Int64 = 512 << 20

    public static func decode(_ bytes: [UInt8], in archive: String) throws(HubError) -> BundleManifest {
        struct Head: Decodable { var format: String?; var formatVersion: Int? }
        guard let head = try? JSON.decode(Head.self, from: bytes), head.format == BundleManifest.formatName else {
            throw HubError(.bundleFormat, "\(archive): \(BundleLayout.manifestName) is not a hubmirror bundle manifest")
        }
        guard head.formatVersion == BundleManifest.formatVersion else {
            throw HubError(.bundleFormat, "\(archive): bundle format version \(head.formatVersion.map(String.init) ?? "?") is not one this hubmirror reads (it reads version \(BundleManifest.formatVersion))")
        }
        do {
            return try JSON.decode(BundleManifest.self, from: bytes)
        } catch {
            throw HubError(.bundleFormat, "\(archive): \(BundleLayout.manifestName) does not parse: \(error)")
        }
    }

    public static func validate(_ m: BundleManifest, in archive: String) throws {
        func bad(_ what: String) -> HubError { HubError(.bundleFormat, "\(archive): manifest: \(what)") }
        guard m.bundleID.utf8.count == 32, m.bundleID.utf8.allSatisfy({ Hex.isDigit($0) }) else { throw bad("bundle id '\(m.bundleID)' is not 32 hex digits") }
        guard m.volumes >= 1, m.volumes <= 99_999 else { throw bad("\(m.volumes) volumes") }
        var seenRepos = Set<RepoRef>()
        for r in m.repos {
            guard seenRepos.insert(r.repo).inserted else { throw bad("\(r.repo) is listed twice") }
            var commits = Set<String>()
            for c in r.commits {
                guard Revision.isCommitSHA(c.commit) else { throw bad("\(r.repo): commit '\(c.commit)' is not a 40-hex sha") }
                guard c.repo == r.repo else { throw bad("\(r.repo): the manifest of \(c.commit) names \(c.repo)") }
                guard commits.insert(c.commit).inserted else { throw bad("\(r.repo): commit \(c.commit) is listed twice") }
                var paths = Set<String>()
                for e in c.entries {
                    try RemotePath.validate(e.path, repo: "\(r.repo)@\(c.commit) (bundle \(archive))")
                    guard paths.insert(e.path).inserted else { throw bad("\(r.repo)@\(c.commit): \(e.path) is listed twice") }
                    guard let sha = e.sha256, BundleLayout.isSHA256(sha) else { throw bad("\(r.repo)@\(c.commit): \(e.path) has no SHA-256") }
                    guard e.size >= 0 else { throw bad("\(r.repo)@\(c.commit): \(e.path) has a negative size") }
                    if let lfs = e.lfs {
                        guard lfs.sha256 == sha, lfs.size == e.size else { throw bad("\(r.repo)@\(c.commit): \(e.path): LFS oid and SHA-256 differ") }
                    } else {
                        guard e.blobID.utf8.count == 40, e.blobID.utf8.allSatisfy({ Hex.isDigit($0) }) else {
                            throw bad("\(r.repo)@\(c.commit): \(e.path) has no git blob id")
                        }
                    }
                }
            }
            for (ref, commit) in r.refs {
                do { try Revision.validate(ref) } catch { throw HubError(.bundleFormat, "\(archive): manifest: \(r.repo): ref name: \(error)") }
                guard !Revision.isCommitSHA(ref) else { throw bad("\(r.repo): ref '\(ref)' looks like a commit sha") }
                guard commits.contains(commit) else { throw bad("\(r.repo): ref \(ref) names commit \(commit), which the bundle does not describe") }
            }
        }
        var names = Set<String>()
        var shas = Set<String>()
        for b in m.blobs {
            guard BundleLayout.isSHA256(b.sha256), shas.insert(b.sha256).inserted else { throw bad("blob '\(b.sha256)' is not a SHA-256 or is listed twice") }
            var offset: Int64 = 0
            for (i, member) in b.members.enumerated() {
                let expected = b.members.count == 1 && member.size == b.size ? BundleLayout.blobName(b.sha256) : BundleLayout.partName(b.sha256, part: i + 1)
                guard member.name == expected, names.insert(member.name).inserted else { throw bad("blob \(b.sha256): member '\(member.name)' should be '\(expected)'") }
                guard member.volume >= 1, member.volume <= m.volumes else { throw bad("\(member.name) is in volume \(member.volume) of \(m.volumes)") }
                guard member.offset == offset, member.size >= 0 else { throw bad("\(member.name) does not start where the part before it ends") }
                offset += member.size
            }
            guard offset == b.size, !b.members.isEmpty else { throw bad("the members of blob \(b.sha256) cover \(offset) of its \(b.size) bytes") }
        }
    }
}

extension Hex {
    static func isDigit(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) }
}
