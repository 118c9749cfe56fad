public import HubCore

/// The names of a bundle's tar members and the rules a member name must pass: the one place that
/// spells them. Everything not named here is refused on import.
public enum BundleLayout {
    public static let folder = "hubmirror-bundle"
    public static let manifestName = folder + "/manifest.json"
    public static let manifestSignatureName = manifestName + ".sig"

    /// `hubmirror-bundle/volume-001.sha256`: the volume's index (sha256sum format), last but one member.
    public static func indexName(volume: Int) -> String { folder + "/volume-" + pad(volume, 3) + ".sha256" }
    public static func indexSignatureName(volume: Int) -> String { indexName(volume: volume) + ".sig" }

    /// `blobs/<sha256>`.
    public static func blobName(_ sha256: String) -> String { "blobs/" + sha256 }
    /// `blobs/<sha256>.part-0001` (1-based).
    public static func partName(_ sha256: String, part: Int) -> String { blobName(sha256) + ".part-" + pad(part, 4) }

    /// The file name of volume `n` of `count` for `--out PATH`: PATH itself for a single volume, else `PATH.001`, ….
    public static func volumePath(_ base: String, volume n: Int, of count: Int, split: Bool) -> String {
        split ? base + "." + pad(n, 3) : base
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// What a member name stands for.
    public enum Role: Equatable, Sendable {
        case manifest, manifestSignature
        case index(volume: Int), indexSignature(volume: Int)
        case blob(sha256: String)
        case part(sha256: String, part: Int)
    }

    /// The role of a member name, or an error naming the entry: unsafe names (absolute, `..`, empty
    /// segments, NUL, backslash, control characters) are `.bundleEntry` errors before anything else.
    public static func role(of name: String, in archive: String) throws(HubError) -> Role {
        if let problem = unsafeProblem(name) {
            throw HubError(.bundleEntry, "\(archive): entry '\(printable(name))' \(problem); nothing from it is written")
        }
        switch name {
        case manifestName: return .manifest
        case manifestSignatureName: return .manifestSignature
        default: break
        }
        if name.hasPrefix(folder + "/volume-") {
            var rest = name.dropFirst((folder + "/volume-").count)
            let signature = rest.hasSuffix(".sha256.sig")
            if signature { rest = rest.dropLast(4) }
            if rest.hasSuffix(".sha256"), let n = Int(rest.dropLast(7)), n >= 1, rest.count == 7 + max(3, String(n).count) {
                return signature ? .indexSignature(volume: n) : .index(volume: n)
            }
        } else if name.hasPrefix("blobs/") {
            let rest = name.dropFirst(6)
            let hex = String(rest.prefix(64))
            if isSHA256(hex) {
                if rest.count == 64 { return .blob(sha256: hex) }
                let tail = rest.dropFirst(64)
                if tail.hasPrefix(".part-"), let n = Int(tail.dropFirst(6)), n >= 1, tail.count == 6 + max(4, String(n).count) {
                    return .part(sha256: hex, part: n)
                }
            }
        }
        throw HubError(.bundleEntry, "\(archive): unexpected entry '\(printable(name))': a bundle holds only \(folder)/… and blobs/<sha256>[.part-NNNN]")
    }

    /// Why a name could escape the folder it is extracted into, or nil.
    static func unsafeProblem(_ name: String) -> String? {
        if name.isEmpty { return "has an empty name" }
        if name.hasPrefix("/") { return "is an absolute path" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\\" || $0.value == 0x7F }) {
            return "contains a control character or backslash"
        }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        if parts.contains("..") { return "contains '..'" }
        if parts.contains(where: { $0.isEmpty || $0 == "." }) { return "has an empty or '.' path segment" }
        return nil
    }

    static func printable(_ name: String) -> String {
        String(name.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) }.prefix(200))
    }

    public static func isSHA256(_ s: some StringProtocol) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
