public import HubCore

/// One content being fetched, as a sink keeps it until its digest is known: bytes written at their
/// offsets plus the durable record of which ranges hold data. The engine sees only this interface;
/// where the bytes live (a partial file beside its journal, later an object-store upload) is the
/// sink's business. Reads may come from another thread than writes (the hasher).
public protocol StagedContent: AnyObject, Sendable {
    /// The content's full size.
    var size: Int64 { get }
    /// Ranges an earlier run wrote and journaled: they are not fetched again (the digest still covers them).
    var resumed: IntervalSet { get }
    /// Writes bytes at `offset` (through the page cache).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(HubError)
    /// The alignment (of address, length and offset) `writeDirect` needs; nil when the content takes
    /// buffered writes only (the file system refuses O_DIRECT, or the sink has no such thing).
    var directAlignment: Int? { get }
    /// Why writes are buffered when `directAlignment` is nil (e.g. "tmpfs refuses O_DIRECT"), for the log.
    var directRefusal: String? { get }
    /// Writes bytes at `offset` bypassing the page cache (O_DIRECT): `bytes`' address and count and
    /// `offset` are multiples of `directAlignment`. Falls back to `write` when the file system refuses.
    func writeDirect(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(HubError)
    /// Reads up to `buffer.count` bytes at `offset`; 0 past the end of what was allocated.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(HubError) -> Int
    /// Records ranges whose bytes are written (they survive a crash from now on).
    func journal(_ ranges: IntervalSet) throws(HubError)
    /// Replaces the record with exactly `ranges` (after some bytes were found bad and forgotten).
    func rewriteJournal(_ ranges: IntervalSet) throws(HubError)
    /// Forgets every byte and starts over.
    func restart() throws(HubError)
    /// Starts writing the range to stable storage in the background (a hint).
    func startWriteback(offset: Int64, count: Int64)
    /// Makes every written byte durable.
    func syncData() throws(HubError)
    /// Ends writing; the content stays staged (for a later run) unless adopted.
    func close()
}

extension StagedContent {
    public var directAlignment: Int? { nil }
    public var directRefusal: String? { "the staging has no direct writes" }
    public func writeDirect(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(HubError) { try write(bytes, at: offset) }
}
