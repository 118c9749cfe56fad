/// A half-open byte range `[start, end)`.
public struct ByteRange: Hashable, Sendable, Codable, CustomStringConvertible {
    public var start: Int64
    public var end: Int64

    public init(_ start: Int64, _ end: Int64) {
        precondition(start <= end, "range \(start)..<\(end) is reversed")
        self.start = start
        self.end = end
    }

    public var count: Int64 { end - start }
    public var isEmpty: Bool { start == end }
    public var description: String { "\(start)..<\(end)" }
    /// The HTTP `Range` header value for this range (`bytes=a-b`, inclusive).
    public var httpRange: String { "bytes=\(start)-\(end - 1)" }
}

/// A set of disjoint, merged byte ranges: what has been written of a file.
public struct IntervalSet: Hashable, Sendable, Codable {
    public private(set) var ranges: [ByteRange] = []

    public init(_ ranges: [ByteRange] = []) {
        for r in ranges { insert(r) }
    }

    public var totalBytes: Int64 { ranges.reduce(0) { $0 + $1.count } }

    /// Adds a range, merging with neighbours it touches or overlaps.
    public mutating func insert(_ r: ByteRange) {
        guard !r.isEmpty else { return }
        var lo = 0
        while lo < ranges.count && ranges[lo].end < r.start { lo += 1 }
        var hi = lo
        var merged = r
        while hi < ranges.count && ranges[hi].start <= r.end {
            merged = ByteRange(min(merged.start, ranges[hi].start), max(merged.end, ranges[hi].end))
            hi += 1
        }
        ranges.replaceSubrange(lo..<hi, with: [merged])
    }

    /// Takes the bytes of `cut` out (a range it covers in part is trimmed, one it splits becomes two).
    public mutating func remove(_ cut: ByteRange) {
        guard !cut.isEmpty else { return }
        var out: [ByteRange] = []
        for r in ranges {
            if r.end <= cut.start || r.start >= cut.end { out.append(r); continue }
            if r.start < cut.start { out.append(ByteRange(r.start, cut.start)) }
            if r.end > cut.end { out.append(ByteRange(cut.end, r.end)) }
        }
        ranges = out
    }

    /// The range that holds byte `offset`, if any.
    public func range(containing offset: Int64) -> ByteRange? {
        ranges.first { $0.start <= offset && offset < $0.end }
    }

    /// Where the first range that begins after `offset` begins, if any.
    public func start(after offset: Int64) -> Int64? {
        ranges.first { $0.start > offset }?.start
    }

    /// End of the contiguous run starting at 0 (0 if byte 0 is missing).
    public var contiguousPrefix: Int64 {
        guard let first = ranges.first, first.start == 0 else { return 0 }
        return first.end
    }

    public func contains(_ r: ByteRange) -> Bool {
        ranges.contains { $0.start <= r.start && r.end <= $0.end }
    }

    /// The parts of `0..<size` not covered.
    public func missing(size: Int64) -> [ByteRange] {
        var out: [ByteRange] = []
        var pos: Int64 = 0
        for r in ranges {
            if r.start >= size { break }
            if r.start > pos { out.append(ByteRange(pos, r.start)) }
            pos = max(pos, r.end)
        }
        if pos < size { out.append(ByteRange(pos, size)) }
        return out
    }
}

/// Splits what is missing of a file into requests. Chunk boundaries sit on a fixed grid from offset 0,
/// so a resumed run asks for the same pieces as the first one.
public struct ChunkPlanner: Sendable, Equatable {
    public var chunkSize: Int64

    public init(chunkSize: Int64) {
        precondition(chunkSize > 0)
        self.chunkSize = chunkSize
    }

    public func plan(size: Int64, completed: IntervalSet = IntervalSet()) -> [ByteRange] {
        var out: [ByteRange] = []
        for gap in completed.missing(size: size) {
            var s = gap.start
            while s < gap.end {
                let gridEnd = (s / chunkSize + 1) * chunkSize
                let e = min(gap.end, gridEnd)
                out.append(ByteRange(s, e))
                s = e
            }
        }
        return out
    }

    /// A default chunk size for a file: whole small files, otherwise pieces that keep every
    /// connection busy without making the requests tiny.
    public static func defaultChunkSize(fileSize: Int64, connections: Int) -> Int64 {
        let mib: Int64 = 1 << 20
        let target = fileSize / Int64(max(1, connections) * 4)
        return min(64 * mib, max(8 * mib, (target / mib) * mib))
    }
}
