/// The SHA-256 of each fixed-size chunk of a content, so a receiver can check every chunk as it
/// arrives instead of only the whole file at the end, and fetch again just the chunk that failed.
/// Chunk `i` covers bytes `i * chunkSize ..< min((i + 1) * chunkSize, size)`.
///
/// The size is 16 MiB (`standardSize`): large enough that a ranged HTTP request per chunk costs
/// little next to its transfer and that a terabyte-file's list stays around 4 MiB of hex, small
/// enough that a failed chunk costs seconds to fetch again. The Hub's Xet chunks (content-defined,
/// ~64 KiB) are too small to be worth a request each; Dragonfly uses 4 to 64 MiB pieces.
public struct ChunkDigests: Codable, Hashable, Sendable {
    public static let standardSize: Int64 = 16 << 20

    public var chunkSize: Int64
    /// Lowercase hex, one per chunk, in order.
    public var sha256: [String]

    public init(chunkSize: Int64, sha256: [String]) {
        self.chunkSize = chunkSize
        self.sha256 = sha256
    }

    /// How many chunks a content of `size` has (0 for an empty one).
    public static func count(size: Int64, chunkSize: Int64) -> Int {
        Int((size + chunkSize - 1) / chunkSize)
    }

    /// True when the list has the right number of well-formed digests for a content of `size`.
    public func fits(size: Int64) -> Bool {
        chunkSize > 0 && sha256.count == Self.count(size: size, chunkSize: chunkSize) && sha256.allSatisfy { HexDigits.isLowercase($0, count: 64) }
    }
}
