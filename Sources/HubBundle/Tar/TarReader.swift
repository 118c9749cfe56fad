public import HubCore

/// Reads a tar archive member by member from an `InputStream`, in one forward pass with a fixed
/// buffer: headers (pax `path`/`size` records and GNU long names applied), then each member's data
/// handed out in slices, or skipped (seeked over in a regular file). Every failure is a
/// `.bundleFormat` error naming the archive, the member and the byte offset.
public final class TarReader {
    /// One member: its header (pax values applied) and where its data starts in the archive.
    public struct Member: Sendable {
        public var header: TarHeader
        public var dataOffset: Int64
        public var name: String { header.name }
        public var size: Int64 { header.size }
    }

    public let input: InputStream
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    /// Data bytes of the current member not yet handed out, then its padding.
    private var dataLeft: Int64 = 0
    private var padLeft: Int64 = 0
    private var current: Member?
    public private(set) var finished = false

    public init(_ input: InputStream, bufferSize: Int = 1 << 20) {
        self.input = input
        buffer = .allocate(byteCount: max(bufferSize, 4 * TarHeader.blockSize), alignment: 4096)
    }

    deinit { buffer.deallocate() }

    /// The offset in the archive of the next byte this reader hands out.
    var position: Int64 { input.offset - Int64(end - start) }

    func formatError(_ what: String) -> HubError {
        HubError(.bundleFormat, "\(input.name): \(what)")
    }

    /// Buffers at least `n` bytes (n ≤ buffer size); false at end of file first.
    private func fill(_ n: Int) throws(HubError) -> Bool {
        if end - start >= n { return true }
        if start > 0 {
            let have = end - start
            if have > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: have) }
            start = 0
            end = have
        }
        while end - start < n {
            let got = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if got == 0 { return false }
            end += got
        }
        return true
    }

    private func readBlock() throws(HubError) -> UnsafeRawBufferPointer? {
        guard try fill(TarHeader.blockSize) else {
            if end - start == 0 { return nil }
            throw formatError("truncated: it ends inside a tar header at byte \(position + Int64(end - start))")
        }
        let b = UnsafeRawBufferPointer(rebasing: buffer[start..<start + TarHeader.blockSize])
        start += TarHeader.blockSize
        return b
    }

    /// The next member, or nil at the end-of-archive marker. The previous member's unread data is skipped.
    public func next() throws(HubError) -> Member? {
        if let c = current {
            if dataLeft > 0 { try skipData() }
            try skipPadding(after: c)
            current = nil
        }
        var pax: [String: String] = [:]
        var longName: String?
        while true {
            let headerOffset = position
            guard let block = try readBlock() else {
                throw formatError("truncated: no end-of-archive marker after byte \(headerOffset) (the file was cut short)")
            }
            if block.allSatisfy({ $0 == 0 }) {
                // Two zero blocks end the archive; accept a lone one at end of file as tar does.
                if let second = try readBlock(), !second.allSatisfy({ $0 == 0 }) {
                    throw formatError("a zero block at byte \(headerOffset) is followed by data: not a tar archive this reader trusts")
                }
                finished = true
                return nil
            }
            var header: TarHeader
            switch TarHeader.parse(block) {
            case .success(let h): header = h
            case .failure(.badChecksum): throw formatError("bad tar header checksum at byte \(headerOffset) (damaged, or not a tar archive)")
            case .failure(.notUSTAR): throw formatError("the block at byte \(headerOffset) is not a ustar/pax tar header")
            case .failure(.badNumber(let field)): throw formatError("the tar header at byte \(headerOffset) has a malformed \(field) field")
            }
            switch header.kind {
            case .paxExtended, .paxGlobal, .gnuLongName, .gnuLongLink:
                guard header.size <= 1 << 20 else { throw formatError("a \(header.kind.label) at byte \(headerOffset) is \(header.size) bytes long") }
                let data = try readSmall(Int(header.size), what: header.kind.label, at: headerOffset)
                if header.kind == .paxExtended {
                    guard let records = TarHeader.parsePax(data) else { throw formatError("malformed pax records at byte \(headerOffset)") }
                    pax.merge(records) { _, b in b }
                } else if header.kind == .gnuLongName {
                    longName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                }
                continue
            default:
                break
            }
            if let p = pax["path"] { header.name = p } else if let l = longName { header.name = l }
            if let s = pax["size"] {
                guard let v = Int64(s), v >= 0 else { throw formatError("pax size '\(s)' of \(header.name) is not a size") }
                header.size = v
            }
            if let l = pax["linkpath"] { header.linkName = l }
            // Only regular files carry data in the archive; the others' size field is not a data length.
            if header.kind != .regular { header.size = 0 }
            let m = Member(header: header, dataOffset: position)
            current = m
            dataLeft = header.size
            padLeft = TarHeader.paddedSize(header.size) - header.size
            return m
        }
    }

    private func readSmall(_ n: Int, what: String, at offset: Int64) throws(HubError) -> [UInt8] {
        let padded = Int(TarHeader.paddedSize(Int64(n)))
        guard try fill(padded) else { throw formatError("truncated inside a \(what) at byte \(offset)") }
        let out = Array(UnsafeRawBufferPointer(rebasing: buffer[start..<start + n]))
        start += padded
        return out
    }

    /// Hands the current member's data out in slices, in order, until it is all read.
    public func readData(_ body: (UnsafeRawBufferPointer) throws(HubError) -> Void) throws(HubError) {
        guard let m = current else { return }
        while dataLeft > 0 {
            if start == end {
                start = 0
                end = 0
                let want = Int(min(Int64(buffer.count), dataLeft))
                let got = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
                if got == 0 { throw truncated(m) }
                end = got
            }
            let n = Int(min(Int64(end - start), dataLeft))
            let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<start + n])
            start += n
            dataLeft -= Int64(n)
            try body(slice)
        }
    }

    /// The current member's data as bytes (for small members: manifests, indexes, signatures).
    public func readAll(limit: Int64) throws(HubError) -> [UInt8] {
        guard let m = current else { return [] }
        guard m.size <= limit else { throw formatError("\(m.name) is \(m.size) bytes, more than the \(limit) a bundle allows for it") }
        var out: [UInt8] = []
        out.reserveCapacity(Int(m.size))
        try readData { out.append(contentsOf: $0) }
        return out
    }

    /// Skips the current member's data without reading it (a seek in a regular file).
    public func skipData() throws(HubError) {
        guard let m = current, dataLeft > 0 else { return }
        let buffered = Int64(end - start)
        if buffered >= dataLeft {
            start += Int(dataLeft)
            dataLeft = 0
            return
        }
        dataLeft -= buffered
        start = 0
        end = 0
        let skipped = try input.skip(dataLeft, scratch: buffer)
        dataLeft -= skipped
        if dataLeft > 0 { throw truncated(m) }
    }

    private func skipPadding(after m: Member) throws(HubError) {
        guard padLeft > 0 else { return }
        guard try fill(Int(padLeft)) else { throw truncated(m) }
        start += Int(padLeft)
        padLeft = 0
    }

    private func truncated(_ m: Member) -> HubError {
        formatError("truncated: entry \(m.name) should hold \(m.size) bytes from byte \(m.dataOffset), but the archive ends at byte \(position)")
    }
}
