import ArgumentParser
import Foundation
import HubBundle
import HubCore
import HubDigest
import HubStore

/// `hubmirror export`: writes an air-gapped bundle (Docs/bundle-format.md).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write repos of the store into a bundle (a tar, or volumes) for an air-gapped import.",
        discussion: """
        With no repo, every repo of the store goes, with every ref. REPO takes every ref of that repo; \
        REPO@REV only that ref or commit. --since FILE (written by `hubmirror state` on the far side) leaves \
        out the blobs the far side holds. --volume-size SIZE writes PATH.001, PATH.002, …, each a tar of \
        its own; blobs larger than a volume are cut into parts. --sign-key signs the manifest and every \
        volume index with an Ed25519 key from `hubmirror keygen`.
        """
    )

    @Argument(help: ArgumentHelp("Repos to export, e.g. org/name or org/name@main (default: all).", valueName: "repo[@rev]"))
    var repos: [String] = []

    @Option(name: .long, help: "Repository type of the repos named: model, dataset or space.")
    var type: String = "model"

    @Option(name: .long, help: "Cache directory (default: $HF_HUB_CACHE or $HF_HOME/hub).")
    var cacheDir: String?

    @Option(name: .long, help: "Bundle file to write; - for stdout (one volume only).")
    var out: String

    @Option(name: .long, help: "A state file from `hubmirror state` on the far side: carry only the blobs it lacks.")
    var since: String?

    @Option(name: .long, help: "Cut the bundle into volumes of at most this size, e.g. 4G (PATH.001, PATH.002, …).")
    var volumeSize: String?

    @Option(name: .long, help: "Sign with this Ed25519 private key (PEM, from `hubmirror keygen`).")
    var signKey: String?

    @Flag(name: .long, help: "Do not fsync the bundle files at the end.")
    var noFsync = false

    @Flag(name: .long, help: "Print one JSON summary to stdout (not with --out -).")
    var json = false

    func run() throws {
        try HubMirror.guarded {
            guard let repoType = RepoType(parsing: type) else { throw HubError(.usage, "--type must be model, dataset or space, not '\(type)'") }
            let selections = try repos.map { text -> ExportContent.Selection in
                let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
                let revision = parts.count > 1 ? parts[1] : nil
                if let revision { try Revision.validate(revision) }
                return ExportContent.Selection(repo: RepoRef(type: repoType, id: try RepoID(parts[0])), revision: revision)
            }
            let root = HFEnvironment.absolute(cacheDir ?? HFEnvironment.hubCache)
            guard FS.isDirectory(root) else { throw HubError(.usage, "cache directory \(root) does not exist") }
            let outPath = out == "-" ? "-" : HFEnvironment.absolute(out)
            var options = BundleExporter.Options(out: outPath)
            if let v = volumeSize {
                guard let size = ByteSize.parse(v), size >= 1 << 20 else { throw HubError(.usage, "--volume-size '\(v)' is not a size of at least 1M (e.g. 4G)") }
                options.volumeSize = size
            }
            if let since {
                guard let bytes = FS.readFile(since) else { throw HubError(.usage, "--since \(since): cannot read the state file") }
                options.since = (try StoreState.parse(bytes, path: since), Digest.hex(.sha256, of: bytes))
            }
            if let signKey { options.signingKey = try KeyFiles.privateKey(signKey, option: "--sign-key") }
            options.durable = !noFsync
            let result = try BundleExporter(store: CacheStore(root: root), options: options).export(selections)
            let m = result.manifest
            let commits = m.repos.reduce(0) { $0 + $1.commits.count }
            if json && out != "-" {
                let summary: [String: String] = ["bundleID": m.bundleID, "volumes": String(m.volumes), "paths": result.paths.joined(separator: " "),
                                                 "blobs": String(m.blobs.count), "bytes": String(result.bytesWritten), "blobsLeftOut": String(result.blobsLeftOut)]
                Console.out(JSON.string(summary))
            } else {
                let line = "exported \(m.repos.count) repo(s), \(commits) commit(s), \(m.blobs.count) blob(s) (\(ByteSize.format(m.totalBlobBytes)))"
                    + (options.since != nil ? ", \(result.blobsLeftOut) blob(s) left out as the far side holds them" : "")
                    + " into \(m.volumes) volume(s), \(ByteSize.format(result.bytesWritten))\(options.signingKey != nil ? ", signed" : "")"
                if out == "-" { Console.err(line) } else {
                    Console.out(line)
                    for p in result.paths { Console.out("  \(p)") }
                }
            }
        }
    }
}

/// Reading the key files of `keygen`, naming the option in errors.
enum KeyFiles {
    static func privateKey(_ path: String, option: String) throws -> Ed25519.PrivateKey {
        guard let bytes = FS.readFile(path) else { throw HubError(.usage, "\(option) \(path): cannot read the key file") }
        do { return try Ed25519.PrivateKey(pem: bytes) } catch { throw HubError(.usage, "\(option) \(path): \(error)") }
    }

    static func publicKey(_ path: String, option: String) throws -> Ed25519.PublicKey {
        guard let bytes = FS.readFile(path) else { throw HubError(.usage, "\(option) \(path): cannot read the key file") }
        do { return try Ed25519.PublicKey(pem: bytes) } catch { throw HubError(.usage, "\(option) \(path): \(error)") }
    }
}
