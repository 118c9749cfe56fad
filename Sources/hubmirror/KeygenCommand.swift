import ArgumentParser
import HubCore
import HubDigest
import HubStore

/// `hubmirror keygen`: an Ed25519 key pair for signing bundles.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write an Ed25519 key pair: NAME (private, PKCS#8 PEM, mode 0600) and NAME.pub (public, PEM).",
        discussion: "Both files are what `openssl pkey` reads. Give NAME to `export --sign-key` and NAME.pub to `import --trusted-key`."
    )

    @Option(name: .long, help: "Base name of the key files.")
    var out: String

    func run() throws {
        try HubMirror.guarded {
            let path = HFEnvironment.absolute(out)
            for p in [path, path + ".pub"] where FS.exists(p) {
                throw HubError(.usage, "--out \(out): \(p) already exists; keygen never overwrites a key")
            }
            let key: Ed25519.PrivateKey
            let (secret, pub): ([UInt8], [UInt8])
            do {
                key = try Ed25519.PrivateKey.generate()
                secret = try key.pem()
                pub = try key.publicKey().pem()
            } catch {
                throw HubError(.store, "cannot make an Ed25519 key: \(error)")
            }
            try FS.writeAtomically(secret, to: path, mode: 0o600)
            try FS.writeAtomically(pub, to: path + ".pub")
            Console.out("wrote \(out) (private) and \(out).pub (public), key \((try? key.publicKey().fingerprint) ?? "")")
        }
    }
}
