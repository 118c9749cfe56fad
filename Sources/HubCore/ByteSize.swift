import Foundation

/// Parses and prints byte sizes: `50M`, `1.5GiB`, `4096`, `10MB`. `K/M/G/T` are binary (1024) multiples.
public enum ByteSize {
    public static func parse(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { return nil }
        var numberPart = ""
        var unit = ""
        for c in t {
            if unit.isEmpty && (c.isNumber || c == ".") { numberPart.append(c) } else { unit.append(c) }
        }
        guard let n = Double(numberPart), n >= 0 else { return nil }
        let u = unit.lowercased().trimmingCharacters(in: .whitespaces)
        let mult: Double
        switch u {
        case "", "b": mult = 1
        case "k", "kb", "kib": mult = 1024
        case "m", "mb", "mib": mult = 1024 * 1024
        case "g", "gb", "gib": mult = 1024 * 1024 * 1024
        case "t", "tb", "tib": mult = 1024 * 1024 * 1024 * 1024
        default: return nil
        }
        let v = n * mult
        guard v < 9.0e18 else { return nil }
        return Int64(v.rounded())
    }

    /// `1.5 GiB`, `512 B`.
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(bytes)
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        if i == 0 { return "\(bytes) B" }
        let rounded = (v * 10).rounded() / 10
        return "\(rounded) \(units[i])"
    }
}
