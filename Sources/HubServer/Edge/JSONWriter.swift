/// A small streaming JSON writer: exact key order, no escaped slashes, UTF-8 passed through.
/// Commas are placed automatically between members and elements.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// One flag per open container: true until its first member is written.
    private var first: [Bool] = []
    /// True right after a key, so the value that follows gets no comma.
    private var afterKey = false

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    private mutating func separate() {
        if afterKey { afterKey = false; return }
        guard !first.isEmpty else { return }
        if first[first.count - 1] { first[first.count - 1] = false } else { bytes.append(UInt8(ascii: ",")) }
    }

    mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); first.append(true) }
    mutating func endObject() { first.removeLast(); bytes.append(UInt8(ascii: "}")) }
    mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); first.append(true) }
    mutating func endArray() { first.removeLast(); bytes.append(UInt8(ascii: "]")) }

    mutating func key(_ k: String) {
        separate()
        writeString(k)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    mutating func value(_ s: String) { separate(); writeString(s) }
    mutating func value(_ v: Int64) { separate(); bytes.append(contentsOf: String(v).utf8) }
    mutating func value(_ v: Int) { value(Int64(v)) }
    mutating func value(_ b: Bool) { separate(); bytes.append(contentsOf: (b ? "true" : "false").utf8) }
    mutating func null() { separate(); bytes.append(contentsOf: "null".utf8) }
    /// Already-encoded JSON (a cached fragment).
    mutating func raw(_ json: [UInt8]) { separate(); bytes.append(contentsOf: json) }

    mutating func field(_ k: String, _ v: String) { key(k); value(v) }
    mutating func field(_ k: String, _ v: Int64) { key(k); value(v) }
    mutating func field(_ k: String, _ v: Bool) { key(k); value(v) }

    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        let hex = Array("0123456789abcdef".utf8)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 0x0A: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(b >> 4)])
                bytes.append(hex[Int(b & 0xF)])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
