/// Rendezvous (highest-random-weight) hashing of a content's chunks over the mirrors of a fleet: every
/// mirror computes the same owner for every chunk from nothing but the content digest, the chunk index
/// and the members' names, so mirrors started together split the upstream fetches with no scheduler.
/// The owner of a chunk fetches it from the upstream; the others take it from the owner once it has it.
/// The rule is part of the peer protocol (Docs/peer-protocol.md, "Mirrors started together").
public enum Rendezvous {
    /// The fleet-wide chunk grid: a chunk is `i * gridSize ..< (i + 1) * gridSize`. Fixed by the
    /// protocol (the chunk-digest size), not by a mirror's `--chunk-size`, so that all mirrors agree.
    public static let gridSize: Int64 = 16 << 20

    /// The weight of `member` for chunk `chunk` of `digest`: splitmix64(FNV-1a-64("digest:chunk:member")).
    public static func score(digest: String, chunk: Int64, member: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "\(digest):\(chunk):\(member)".utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        h = h &+ 0x9e37_79b9_7f4a_7c15
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }

    /// The index in `members` of the one with the highest weight (ties: the lower name).
    public static func owner(digest: String, chunk: Int64, members: [String]) -> Int? {
        var best: (Int, UInt64, String)? = nil
        for (i, m) in members.enumerated() {
            let s = score(digest: digest, chunk: chunk, member: m)
            if let b = best, s < b.1 || (s == b.1 && m >= b.2) { continue }
            best = (i, s, m)
        }
        return best?.0
    }
}

/// This mirror's place in a fleet of mirrors that list each other as peers.
public struct Fleet: Sendable, Equatable {
    /// The name the other mirrors know this one by (`--advertise`, its serve URL).
    public var me: String

    public init(me: String) { self.me = me }
}
