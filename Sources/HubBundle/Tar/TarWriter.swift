public import HubCore

/// Writes a POSIX tar (pax where needed) member by member to an `OutputStream`: a header, the data,
/// zero padding to the next block; two zero blocks end the archive.
public final class TarWriter {
    public let out: OutputStream
    /// Modification time given to every member (the bundle's creation time).
    public let mtime: Int64
    private var open: (name: String, size: Int64, written: Int64)?

    public init(_ out: OutputStream, mtime: Int64) {
        self.out = out
        self.mtime = mtime
    }

    /// A whole member from bytes in memory.
    public func add(_ name: String, _ data: [UInt8]) throws(HubError) {
        try begin(name, size: Int64(data.count))
        try withBytes(data) { (b) throws(HubError) in try write(b) }
        try end()
    }

    /// Starts a member of `size` bytes; `write` its data, then `end`.
    public func begin(_ name: String, size: Int64) throws(HubError) {
        precondition(open == nil, "TarWriter.begin with \(open?.name ?? "") still open")
        try out.write(TarHeader(name: name, size: size, mtime: mtime).encoded())
        open = (name, size, 0)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(HubError) {
        guard let o = open else { preconditionFailure("TarWriter.write with no member open") }
        guard o.written + Int64(bytes.count) <= o.size else {
            throw HubError(.store, "\(o.name) grew while it was written into \(out.name) (\(o.size) bytes expected)")
        }
        try out.write(bytes)
        open!.written += Int64(bytes.count)
    }

    /// Copies up to `count` bytes of the file `fd` from `offset` into the open member without a user
    /// space copy; returns how many it copied (the caller writes the rest).
    public func sendFile(_ fd: Int32, offset: Int64, count: Int64) throws(HubError) -> Int64 {
        guard let o = open else { preconditionFailure("TarWriter.sendFile with no member open") }
        let n = try out.sendFile(fd, offset: offset, count: min(count, o.size - o.written))
        open!.written += n
        return n
    }

    /// Ends the member: it must have had exactly its size.
    public func end() throws(HubError) {
        guard let o = open else { preconditionFailure("TarWriter.end with no member open") }
        guard o.written == o.size else {
            throw HubError(.store, "\(o.name) shrank while it was written into \(out.name): \(o.written) of \(o.size) bytes")
        }
        let pad = Int(TarHeader.paddedSize(o.size) - o.size)
        if pad > 0 { try out.write([UInt8](repeating: 0, count: pad)) }
        open = nil
    }

    /// The end-of-archive marker (two zero blocks).
    public func finish() throws(HubError) {
        try out.write([UInt8](repeating: 0, count: 2 * TarHeader.blockSize))
    }

    /// Bytes the end-of-archive marker takes.
    public static let trailerSize: Int64 = 2 * Int64(TarHeader.blockSize)
}
