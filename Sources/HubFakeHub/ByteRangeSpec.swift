/// A parsed single `Range: bytes=...` header.
enum ByteRangeSpec: Equatable {
    /// `a-b` (b nil for `a-`).
    case bounds(Int64, Int64?)
    /// `-n`.
    case suffix(Int64)

    /// Nil for anything but one well-formed byte range (multi-range and other units are ignored).
    static func parse(_ header: String) -> ByteRangeSpec? {
        let h = header.trimmingWhitespace()
        guard h.lowercased().hasPrefix("bytes=") else { return nil }
        let spec = h.dropFirst(6).trimmingWhitespace()
        if spec.contains(",") { return nil }
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let a = spec[..<dash].trimmingWhitespace()
        let b = spec[spec.index(after: dash)...].trimmingWhitespace()
        if a.isEmpty {
            guard let n = Int64(b), n >= 0 else { return nil }
            return .suffix(n)
        }
        guard let start = Int64(a), start >= 0 else { return nil }
        if b.isEmpty { return .bounds(start, nil) }
        guard let end = Int64(b), end >= start else { return nil }
        return .bounds(start, end)
    }

    enum Resolution: Equatable {
        case satisfiable(start: Int64, end: Int64)  // inclusive end
        case unsatisfiable
    }

    /// Applies the range to a content of `total` bytes, clamping the end.
    func resolve(total: Int64) -> Resolution {
        switch self {
        case .bounds(let a, let b):
            if a >= total { return .unsatisfiable }
            return .satisfiable(start: a, end: min(b ?? (total - 1), total - 1))
        case .suffix(let n):
            if n == 0 || total == 0 { return .unsatisfiable }
            return .satisfiable(start: max(0, total - n), end: total - 1)
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
