/// A `Range` request header against a file of known size (RFC 9110 §14, single ranges only).
enum ByteRangeRequest: Equatable, Sendable {
    /// No usable Range header: send the whole file with 200. Multi-range and malformed headers
    /// land here too, as RFC 9110 allows a server to ignore them.
    case whole
    /// Send these bytes with 206.
    case partial(ClosedRange<Int64>)
    /// 416 with `Content-Range: bytes */size`.
    case unsatisfiable

    /// `bytes=a-b` (end clamped to the last byte), `bytes=a-`, `bytes=-n` (the last n bytes).
    static func parse(_ header: String?, size: Int64) -> ByteRangeRequest {
        guard let header else { return .whole }
        let h = header.trimmingSpaces
        guard h.count > 6, h.prefix(6).lowercased() == "bytes=" else { return .whole }
        let spec = h.dropFirst(6).trimmingSpaces
        if spec.contains(",") { return .whole }
        guard let dash = spec.firstIndex(of: "-") else { return .whole }
        let startText = spec[..<dash].trimmingSpaces
        let endText = spec[spec.index(after: dash)...].trimmingSpaces
        if startText.isEmpty {
            guard let n = number(endText) else { return .whole }
            if n == 0 || size == 0 { return .unsatisfiable }
            return .partial(max(0, size - n)...(size - 1))
        }
        guard let start = number(startText) else { return .whole }
        if endText.isEmpty {
            return start >= size ? .unsatisfiable : .partial(start...(size - 1))
        }
        guard let end = number(endText) else { return .whole }
        if end < start { return .whole }
        if start >= size { return .unsatisfiable }
        return .partial(start...min(end, size - 1))
    }

    /// Decimal digits only; values beyond Int64 saturate (they are past any file's end anyway).
    private static func number(_ s: Substring) -> Int64? {
        guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        var v: Int64 = 0
        for c in s.utf8 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 48))
            if o1 || o2 { return Int64.max }
            v = a
        }
        return v
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
