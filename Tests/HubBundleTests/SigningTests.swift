import Foundation
import HubBundle
import HubDigest
import HubStore
import Testing

/// Ed25519 through libcrypto: keys `openssl pkey` reads, signatures `openssl pkeyutl` verifies.
@Suite struct SigningTests {
    @Test func signaturesVerifyOnlyWithTheirKeyAndMessage() throws {
        let key = try Ed25519.PrivateKey.generate()
        let other = try Ed25519.PrivateKey.generate()
        let message = Array("manifest bytes".utf8)
        let sig = try key.sign(message)
        #expect(sig.count == 64)
        #expect(try key.publicKey().verify(sig, of: message))
        #expect(!(try other.publicKey().verify(sig, of: message)))
        var changed = message
        changed[0] ^= 1
        #expect(!(try key.publicKey().verify(sig, of: changed)))
        // PEM round trips keep the key.
        let again = try Ed25519.PrivateKey(pem: try key.pem())
        #expect(try again.publicKey() == (try key.publicKey()))
        #expect(try Ed25519.PublicKey(pem: try key.publicKey().pem()) == (try key.publicKey()))
        #expect(throws: Ed25519.KeyError.self) { try Ed25519.PublicKey(pem: Array("not a key".utf8)) }
    }

    @Test func keygenFilesAreWhatOpensslReadsAndItsSignaturesCheckByHand() async throws {
        let tmp = TempDir()
        try await ok(["keygen", "--out", tmp.file("k")])
        let mode = try FileManager.default.attributesOfItem(atPath: tmp.file("k"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let priv = try await tool("openssl", ["pkey", "-in", tmp.file("k"), "-noout", "-text"])
        #expect(priv.status == 0 && priv.out.contains("ED25519"), "\(priv.err)")
        let pub = try await tool("openssl", ["pkey", "-pubin", "-in", tmp.file("k.pub"), "-noout", "-text"])
        #expect(pub.status == 0 && pub.out.contains("ED25519"), "\(pub.err)")
        // Never overwrites.
        try await fails(["keygen", "--out", tmp.file("k")], 64, naming: ["already exists"])
        // A signature made here verifies with openssl, as Docs/bundle-format.md tells.
        let key = try Ed25519.PrivateKey(pem: FS.readFile(tmp.file("k"))!)
        let message = Array("{\"format\":\"hubmirror-bundle\"}".utf8)
        try FS.writeAtomically(message, to: tmp.file("m"))
        try FS.writeAtomically(try key.sign(message), to: tmp.file("m.sig"))
        let v = try await tool("openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", tmp.file("k.pub"), "-rawin", "-in", tmp.file("m"), "-sigfile", tmp.file("m.sig")])
        #expect(v.status == 0 && v.out.contains("Signature Verified Successfully"), "\(v.out)\(v.err)")
        // And one openssl makes verifies here.
        let s = try await tool("openssl", ["pkeyutl", "-sign", "-inkey", tmp.file("k"), "-rawin", "-in", tmp.file("m"), "-out", tmp.file("o.sig")])
        #expect(s.status == 0, "\(s.err)")
        #expect(try key.publicKey().verify(FS.readFile(tmp.file("o.sig"))!, of: message))
    }
}
