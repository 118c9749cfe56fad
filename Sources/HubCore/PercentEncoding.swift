/// Percent-encoding exactly as Python's `urllib.parse.quote`, which the official client uses.
public enum PercentEncoding {
    // Python's quote() never encodes these: letters, digits and `_.-~`.
    @inline(__always)
    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == 0x5F || b == 0x2E || b == 0x2D || b == 0x7E
    }

    /// `quote(text, safe=safe)`: UTF-8 bytes outside the unreserved set and `safe` become `%XX`.
    public static func quote(_ text: String, safe: String = "/") -> String {
        let safeBytes = Set(safe.utf8)
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for b in text.utf8 {
            if isUnreserved(b) || safeBytes.contains(b) {
                out.append(b)
            } else {
                out.append(0x25)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A revision as one path segment, nothing safe: `refs/pr/1` -> `refs%2Fpr%2F1`.
    public static func revisionSegment(_ rev: String) -> String { quote(rev, safe: "") }

    /// A file path in a resolve URL, `/` kept: `a b/c#d` -> `a%20b/c%23d`.
    public static func filePath(_ path: String) -> String { quote(path, safe: "/") }

    /// Decodes `%XX` escapes; returns nil for a malformed escape or invalid UTF-8.
    public static func decode(_ text: String) -> String? {
        var out = [UInt8]()
        let bytes = Array(text.utf8)
        var i = 0
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        while i < bytes.count {
            if bytes[i] == 0x25 {
                guard i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) else { return nil }
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
