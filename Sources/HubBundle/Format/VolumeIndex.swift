import HubCore

/// A volume's index, `hubmirror-bundle/volume-NNN.sha256`: one `sha256sum` line per member of the
/// volume before it (`<64 hex>  <name>`), the manifest first. Written last, from the digests computed
/// while the volume was streamed, so `sha256sum -c` checks an extracted volume by hand and its
/// signature ties every member of the volume to the signing key.
public struct VolumeIndex: Equatable, Sendable {
    public var lines: [(sha256: String, name: String)]

    public init(lines: [(sha256: String, name: String)] = []) { self.lines = lines }

    public static func == (a: VolumeIndex, b: VolumeIndex) -> Bool {
        a.lines.count == b.lines.count && zip(a.lines, b.lines).allSatisfy { $0.sha256 == $1.sha256 && $0.name == $1.name }
    }

    public var text: [UInt8] { Array(lines.map { "\($0.sha256)  \($0.name)\n" }.joined().utf8) }

    /// Bytes the index of these member names takes (digests are fixed-size).
    public static func size(names: [String]) -> Int64 { names.reduce(0) { $0 + Int64(64 + 2 + $1.utf8.count + 1) } }

    /// Parses an index; nil when a line is not `<64 lowercase hex>  <name>`.
    public static func parse(_ bytes: [UInt8]) -> VolumeIndex? {
        var out = VolumeIndex()
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            if line.isEmpty { continue }
            guard line.count > 66 else { return nil }
            let hex = String(decoding: line.prefix(64), as: UTF8.self)
            let sep = line.dropFirst(64).prefix(2)
            guard BundleLayout.isSHA256(hex), Array(sep) == [0x20, 0x20] else { return nil }
            out.lines.append((hex, String(decoding: line.dropFirst(66), as: UTF8.self)))
        }
        return out
    }

    public func sha256(of name: String) -> String? { lines.first { $0.name == name }?.sha256 }
}
