import HubCore

/// One tar header block (POSIX ustar, 512 bytes), with the pax extended records hubmirror writes
/// and reads (`path`, `size`). Pure: encoding and parsing only.
public struct TarHeader: Equatable, Sendable {
    /// The member kinds a reader can meet; a bundle holds only `.regular` files.
    public enum Kind: Equatable, Sendable {
        case regular, hardLink, symbolicLink, characterDevice, blockDevice, directory, fifo
        case paxExtended, paxGlobal, gnuLongName, gnuLongLink
        case other(UInt8)

        init(flag: UInt8) {
            switch flag {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): self = .regular
            case UInt8(ascii: "1"): self = .hardLink
            case UInt8(ascii: "2"): self = .symbolicLink
            case UInt8(ascii: "3"): self = .characterDevice
            case UInt8(ascii: "4"): self = .blockDevice
            case UInt8(ascii: "5"): self = .directory
            case UInt8(ascii: "6"): self = .fifo
            case UInt8(ascii: "x"): self = .paxExtended
            case UInt8(ascii: "g"): self = .paxGlobal
            case UInt8(ascii: "L"): self = .gnuLongName
            case UInt8(ascii: "K"): self = .gnuLongLink
            default: self = .other(flag)
            }
        }

        /// What to call it in an error message.
        public var label: String {
            switch self {
            case .regular: return "regular file"
            case .hardLink: return "hard link"
            case .symbolicLink: return "symbolic link"
            case .characterDevice: return "character device"
            case .blockDevice: return "block device"
            case .directory: return "directory"
            case .fifo: return "FIFO"
            case .paxExtended, .paxGlobal: return "pax header"
            case .gnuLongName, .gnuLongLink: return "GNU long-name header"
            case .other(let f): return "entry of type '\(Character(Unicode.Scalar(f)))'"
            }
        }
    }

    public static let blockSize = 512
    /// The largest size the 11 octal digits of a ustar header hold (8 GiB − 1); larger ones go in pax.
    public static let maxOctalSize: Int64 = 0o77777777777

    public var name: String
    public var size: Int64
    public var kind: Kind
    public var mode: Int = 0o644
    public var mtime: Int64 = 0
    public var linkName: String = ""

    public init(name: String, size: Int64, kind: Kind = .regular, mode: Int = 0o644, mtime: Int64 = 0) {
        self.name = name
        self.size = size
        self.kind = kind
        self.mode = mode
        self.mtime = mtime
    }

    /// Bytes `size` data bytes take in an archive: rounded up to whole blocks.
    public static func paddedSize(_ size: Int64) -> Int64 { (size + 511) / 512 * 512 }

    /// True when this member needs a pax header before its ustar header.
    static func needsPax(name: String, size: Int64) -> Bool { name.utf8.count > 100 || size > maxOctalSize }

    /// Every byte a regular member of this name and size takes in an archive, headers and padding included.
    public static func memberSize(name: String, size: Int64) -> Int64 {
        var n = Int64(blockSize) + paddedSize(size)
        if needsPax(name: name, size: size) { n += Int64(blockSize) + paddedSize(Int64(paxRecords(name: name, size: size).count)) }
        return n
    }

    static func paxRecords(name: String, size: Int64) -> [UInt8] {
        var out: [UInt8] = []
        if name.utf8.count > 100 { out += paxRecord("path", name) }
        if size > maxOctalSize { out += paxRecord("size", String(size)) }
        return out
    }

    /// `"<len> key=value\n"`, where `len` counts the whole record, itself included.
    static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n".utf8.count
        var len = body + String(body).count
        if String(len).count != String(body).count { len = body + String(len).count }
        return Array("\(len) \(key)=\(value)\n".utf8)
    }

    /// The header blocks of a regular member: a pax header (with its records) when needed, then the ustar block.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        if Self.needsPax(name: name, size: size) {
            let records = Self.paxRecords(name: name, size: size)
            var pax = TarHeader(name: "PaxHeaders/" + String(name.suffix(80)), size: Int64(records.count), kind: .paxExtended)
            pax.mtime = mtime
            out += pax.ustarBlock()
            out += records
            out += [UInt8](repeating: 0, count: Int(Self.paddedSize(Int64(records.count))) - records.count)
        }
        out += ustarBlock()
        return out
    }

    /// The 512-byte ustar block; a field too small for the value (long name, huge size) holds a
    /// truncated name or 0, and the pax header before it carries the real value.
    func ustarBlock() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.blockSize)
        func put(_ bytes: some Collection<UInt8>, at offset: Int, max: Int) {
            for (i, c) in bytes.prefix(max).enumerated() { b[offset + i] = c }
        }
        func octal(_ v: Int64, at offset: Int, width: Int) {
            let s = String(v, radix: 8)
            let padded = String(repeating: "0", count: max(0, width - 1 - s.count)) + s
            put(padded.utf8, at: offset, max: width - 1)
        }
        put(name.utf8, at: 0, max: 100)
        octal(Int64(mode), at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size > Self.maxOctalSize ? 0 : size, at: 124, width: 12)
        octal(mtime, at: 136, width: 12)
        b[156] = kind == .paxExtended ? UInt8(ascii: "x") : UInt8(ascii: "0")
        put("ustar".utf8, at: 257, max: 6)
        put("00".utf8, at: 263, max: 2)
        put("root".utf8, at: 265, max: 32)
        put("root".utf8, at: 297, max: 32)
        for i in 148..<156 { b[i] = 0x20 }
        let sum = b.reduce(0) { $0 + Int($1) }
        let s = String(sum, radix: 8)
        put((String(repeating: "0", count: max(0, 6 - s.count)) + s).utf8, at: 148, max: 6)
        b[154] = 0
        b[155] = 0x20
        return b
    }

    /// Why a block is not a header, or nil when it parses.
    public enum ParseProblem: Error, Equatable, Sendable {
        case badChecksum, notUSTAR, badNumber(String)
    }

    /// Parses a 512-byte ustar (or GNU) block.
    public static func parse(_ b: UnsafeRawBufferPointer) -> Result<TarHeader, ParseProblem> {
        precondition(b.count == blockSize)
        var unsigned = 0
        var signed = 0
        for i in 0..<blockSize {
            let c = (148..<156).contains(i) ? 0x20 : b[i]
            unsigned += Int(c)
            signed += Int(Int8(bitPattern: c))
        }
        guard let stored = octalField(b, 148, 8), stored == Int64(unsigned) || stored == Int64(signed) else { return .failure(.badChecksum) }
        let magic = String(decoding: b[257..<262], as: UTF8.self)
        guard magic == "ustar" else { return .failure(.notUSTAR) }
        var name = cString(b, 0, 100)
        let prefix = cString(b, 345, 155)
        // GNU tar keeps other data (times) where ustar has the prefix.
        let isGNU = b[262] == 0x20
        if !isGNU && !prefix.isEmpty { name = prefix + "/" + name }
        guard let size = numberField(b, 124, 12) else { return .failure(.badNumber("size")) }
        var h = TarHeader(name: name, size: size, kind: Kind(flag: b[156]))
        h.mode = Int(octalField(b, 100, 8) ?? 0)
        h.mtime = numberField(b, 136, 12) ?? 0
        h.linkName = cString(b, 157, 100)
        return .success(h)
    }

    static func cString(_ b: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> String {
        var end = offset
        while end < offset + width && b[end] != 0 { end += 1 }
        return String(decoding: b[offset..<end], as: UTF8.self)
    }

    /// An octal field (spaces and NULs around the digits allowed); nil when it holds anything else.
    static func octalField(_ b: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> Int64? {
        var v: Int64 = 0
        var digits = 0
        var ended = false
        for i in offset..<offset + width {
            let c = b[i]
            if c == 0 || c == 0x20 { if digits > 0 { ended = true }; continue }
            guard !ended, c >= 0x30, c <= 0x37 else { return nil }
            let (m, o) = v.multipliedReportingOverflow(by: 8)
            guard !o else { return nil }
            v = m + Int64(c - 0x30)
            digits += 1
        }
        return v
    }

    /// Octal, or GNU base-256 (high bit of the first byte set) for values octal cannot hold.
    static func numberField(_ b: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> Int64? {
        if b[offset] & 0x80 != 0 {
            guard b[offset] == 0x80 else { return nil }   // negative or absurdly large
            var v: Int64 = 0
            for i in offset + 1..<offset + width {
                guard v < Int64.max >> 8 else { return nil }
                v = v << 8 | Int64(b[i])
            }
            return v
        }
        return octalField(b, offset, width)
    }

    /// Parses pax records (`"<len> key=value\n"`…) into a dictionary; nil when malformed.
    public static func parsePax(_ data: [UInt8]) -> [String: String]? {
        var out: [String: String] = [:]
        var i = 0
        while i < data.count {
            var j = i
            var len = 0
            while j < data.count, data[j] >= 0x30, data[j] <= 0x39 {
                len = len * 10 + Int(data[j] - 0x30)
                j += 1
                if len > data.count { return nil }
            }
            guard j < data.count, data[j] == 0x20, len > j - i + 1, i + len <= data.count, data[i + len - 1] == 0x0A else { return nil }
            let record = data[(j + 1)..<(i + len - 1)]
            guard let eq = record.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            out[String(decoding: record[record.startIndex..<eq], as: UTF8.self)] = String(decoding: record[(eq + 1)...], as: UTF8.self)
            i += len
        }
        return out
    }
}
