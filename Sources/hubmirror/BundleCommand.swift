import ArgumentParser
import HubBundle
import HubCore
import HubStore

/// `hubmirror bundle verify|ls`: check or list bundle volumes without importing them.
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Check or list bundle volumes without importing them.",
        subcommands: [Verify.self, List.self]
    )

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check each volume on its own: its manifest, signatures, and every entry against its index.",
            discussion: "Exits 0 when every volume given is sound; nothing is written. Other volumes of the bundle need not be there."
        )

        @Argument(help: ArgumentHelp("Volumes (or single-volume bundles).", valueName: "volume"))
        var volumes: [String]

        @Option(name: .long, help: "Require a signature by this Ed25519 public key (PEM; repeatable).")
        var trustedKey: [String] = []

        func run() throws {
            try HubMirror.guarded {
                let keys = try trustedKey.map { try KeyFiles.publicKey($0, option: "--trusted-key") }
                let verifier = VolumeVerifier(trust: TrustPolicy(keys: keys))
                for path in volumes {
                    let s = try verifier.verify(path)
                    Console.out("\(path): volume \(s.volume) of \(s.manifest.volumes) of bundle \(s.manifest.bundleID) ok: "
                                + "\(s.members) entr\(s.members == 1 ? "y" : "ies"), \(ByteSize.format(s.bytes))"
                                + (keys.isEmpty ? (s.signed ? ", signed (signature not checked: no --trusted-key)" : ", unsigned") : ", signature verified"))
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "Print what a bundle holds: repos, refs, commits, blobs and which volume holds each."
        )

        @Argument(help: ArgumentHelp("Bundle files or volumes (the manifest of the first is listed).", valueName: "path"))
        var paths: [String]

        func run() throws {
            try HubMirror.guarded {
                guard let first = paths.first else { throw HubError(.usage, "give a bundle's path") }
                let m = try VolumeVerifier.manifest(at: first)
                Console.out("bundle \(m.bundleID), format \(m.format) \(m.formatVersion), created \(m.created), \(m.volumes) volume(s)"
                            + (m.volumeSize.map { " of at most \(ByteSize.format($0))" } ?? ""))
                if let s = m.since { Console.out("incremental against the state of \(s.created) (sha256 \(s.sha256.prefix(16))…): \(s.blobsLeftOut) blob(s) left out") }
                for r in m.repos {
                    Console.out("\(r.repo.type.rawValue) \(r.repo.id)")
                    for ref in r.refs.keys.sorted() { Console.out("  ref \(ref) -> \(r.refs[ref]!)") }
                    for c in r.commits { Console.out("  commit \(c.commit): \(c.entries.count) file(s), \(ByteSize.format(c.totalBytes))") }
                }
                for v in 1...m.volumes {
                    let members = m.members(inVolume: v)
                    Console.out("volume \(v): \(members.count) entr\(members.count == 1 ? "y" : "ies"), \(ByteSize.format(members.reduce(0) { $0 + $1.size }))")
                }
                for b in m.blobs {
                    let where_ = b.members.map { "\($0.name) (volume \($0.volume))" }.joined(separator: ", ")
                    Console.out("  \(ByteSize.format(b.size))  \(where_)")
                }
            }
        }
    }
}
