import ArgumentParser
import Foundation
import HubBundle
import HubCore
import HubStore

/// `hubmirror import`: verifies a bundle and publishes it into the store.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Verify a bundle (or its volumes, in any order) and publish it into the store.",
        discussion: """
        Every blob is checked against the manifest while it streams in; snapshots and refs are published \
        atomically once the whole bundle is verified. PATH - reads stdin; a PATH that does not exist but \
        PATH.001 does stands for all its volumes. An interrupted import resumes: what it verified is not read \
        again. With --trusted-key (repeatable), an unsigned bundle or one signed by another key is refused.
        """
    )

    @Argument(help: ArgumentHelp("Bundle files or volumes; - for stdin.", valueName: "path"))
    var paths: [String]

    @Option(name: .long, help: "Cache directory (default: $HF_HUB_CACHE or $HF_HOME/hub).")
    var cacheDir: String?

    @Option(name: .long, help: "Require a signature by this Ed25519 public key (PEM; repeatable).")
    var trustedKey: [String] = []

    @Flag(name: .long, help: "Do not fsync blobs before publishing them (faster; a power loss may lose recent ones).")
    var noFsync = false

    @Flag(name: .long, help: "Print newline-delimited JSON events and a summary to stdout.")
    var json = false

    func run() throws {
        try HubMirror.guarded {
            guard !paths.isEmpty else { throw HubError(.usage, "give the bundle's path (or - for stdin)") }
            let keys = try trustedKey.map { try KeyFiles.publicKey($0, option: "--trusted-key") }
            let root = HFEnvironment.absolute(cacheDir ?? HFEnvironment.hubCache)
            let options = BundleImporter.Options(trust: TrustPolicy(keys: keys), durable: !noFsync)
            let json = self.json
            let importer = BundleImporter(store: CacheStore(root: root), options: options) { event in
                guard json else {
                    if case .volume(let path, let v, let n) = event { Console.err("volume \(v) of \(n) verified: \(path)") }
                    return
                }
                switch event {
                case .volume(let path, let v, let n): Console.out(JSON.string(["event": "volume", "path": path, "volume": String(v), "of": String(n)]))
                case .verified(let name, let bytes): Console.out(JSON.string(["event": "verified", "name": name, "bytes": String(bytes)]))
                case .skipped(let name, let bytes, let why): Console.out(JSON.string(["event": "skipped", "name": name, "bytes": String(bytes), "reason": why.rawValue]))
                case .published(let repo, let commit, let refs): Console.out(JSON.string(["event": "published", "repo": repo.description, "commit": commit, "refs": refs.joined(separator: " ")]))
                }
            }
            let paths = self.paths.map { $0 == "-" ? "-" : HFEnvironment.absolute($0) }
            let r = try importer.run(paths)
            if json {
                if let d = try? JSON.encode(["summary": r]) { Console.out(String(decoding: d, as: UTF8.self)) }
                return
            }
            Console.out("imported bundle \(r.bundleID): \(r.commitsPublished) commit(s) and \(r.refsWritten) ref(s) published; "
                        + "\(r.membersVerified) entr\(r.membersVerified == 1 ? "y" : "ies") verified (\(ByteSize.format(r.bytesVerified)))")
            if r.membersSkipped > 0 {
                Console.out("skipped \(r.membersSkipped) entr\(r.membersSkipped == 1 ? "y" : "ies") (\(ByteSize.format(r.bytesSkipped))) verified by an earlier run")
            }
            if r.membersHeld > 0 {
                Console.out("skipped \(r.membersHeld) entr\(r.membersHeld == 1 ? "y" : "ies") (\(ByteSize.format(r.bytesHeld))) the store already held")
            }
        }
    }
}
