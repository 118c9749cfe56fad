public import HubCore

/// The byte ranges of a file that are written, each remembering which source sent it (nil: bytes an
/// earlier run left on disk). A failed digest is blamed on the sources of the bytes it covers.
public struct SourcedRanges: Sendable, Equatable {
    public struct Run: Sendable, Equatable {
        public var range: ByteRange
        public var source: Int?
    }

    /// Sorted, non-overlapping; neighbours with the same source are merged.
    public private(set) var runs: [Run] = []

    public init() {}

    /// Bytes from an earlier run, of no known source.
    public init(leftover: IntervalSet) {
        runs = leftover.ranges.map { Run(range: $0, source: nil) }
    }

    /// All written bytes, whatever their source.
    public var ranges: IntervalSet { IntervalSet(runs.map(\.range)) }
    public var totalBytes: Int64 { runs.reduce(0) { $0 + $1.range.count } }
    public var contiguousPrefix: Int64 { ranges.contiguousPrefix }

    /// Records `range` as written by `source`, replacing whatever it overlaps.
    public mutating func insert(_ range: ByteRange, source: Int?) {
        guard !range.isEmpty else { return }
        remove(range)
        let i = runs.firstIndex { $0.range.start >= range.end } ?? runs.count
        runs.insert(Run(range: range, source: source), at: i)
        merge(around: i)
    }

    /// Forgets the bytes of `range`.
    public mutating func remove(_ range: ByteRange) {
        var out: [Run] = []
        for r in runs {
            if r.range.end <= range.start || r.range.start >= range.end { out.append(r); continue }
            if r.range.start < range.start { out.append(Run(range: ByteRange(r.range.start, range.start), source: r.source)) }
            if r.range.end > range.end { out.append(Run(range: ByteRange(range.end, r.range.end), source: r.source)) }
        }
        runs = out
    }

    /// The sources of the bytes in `range` (nil stands for a leftover of an earlier run).
    public func sources(in range: ByteRange) -> Set<Int?> {
        Set(runs.filter { $0.range.start < range.end && $0.range.end > range.start }.map(\.source))
    }

    private mutating func merge(around i: Int) {
        var i = i
        if i > 0, runs[i - 1].source == runs[i].source, runs[i - 1].range.end == runs[i].range.start {
            runs[i - 1].range = ByteRange(runs[i - 1].range.start, runs[i].range.end)
            runs.remove(at: i)
            i -= 1
        }
        if i + 1 < runs.count, runs[i + 1].source == runs[i].source, runs[i].range.end == runs[i + 1].range.start {
            runs[i].range = ByteRange(runs[i].range.start, runs[i + 1].range.end)
            runs.remove(at: i + 1)
        }
    }
}
