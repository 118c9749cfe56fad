public import HubCore
public import HubDigest

/// Which keys an import or `bundle verify` trusts: none (signatures are not checked) or the
/// `--trusted-key` files, one of which must have signed the manifest and every volume index.
public struct TrustPolicy: Sendable {
    public let keys: [Ed25519.PublicKey]

    public init(keys: [Ed25519.PublicKey]) { self.keys = keys }

    public var requiresSignature: Bool { !keys.isEmpty }

    /// Throws `.bundleSignature` unless `signature` is a trusted key's signature of `bytes`.
    public func check(_ signature: [UInt8]?, of bytes: [UInt8], what: String, archive: String) throws(HubError) {
        guard requiresSignature else { return }
        guard let signature else {
            throw HubError(.bundleSignature, "\(archive): \(what) is not signed, and --trusted-key requires a signature; nothing was imported")
        }
        guard keys.contains(where: { $0.verify(signature, of: bytes) }) else {
            let names = keys.map(\.fingerprint).joined(separator: ", ")
            throw HubError(.bundleSignature, "\(archive): the signature of \(what) is not by a trusted key (trusted: \(names)): the bundle was changed or signed by someone else; nothing was imported")
        }
    }
}
