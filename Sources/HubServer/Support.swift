internal import Foundation
internal import HubCore
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif



enum HexText {
    /// True for a lowercase hex string of 40 (git sha1) or 64 (sha256) digits: the only blob names served.
    static func isEtag(_ s: String) -> Bool { HexDigits.isContentHash(s) }

    static func bytes(_ hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let h = v(u[i]), let l = v(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }
}

/// Paths compared by their UTF-8 bytes: every path below a folder `d` sorts between `d/` and `d0`.
@inline(__always)
func utf8Less(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

enum HubDate {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the only shape the client's date parser accepts.
    static func format(_ unixTime: Double) -> String {
        var t = time_t(unixTime.rounded(.down))
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let ms = Int((unixTime - unixTime.rounded(.down)) * 1000) % 1000
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(tmv.tm_year + 1900, 4))-\(pad(tmv.tm_mon + 1, 2))-\(pad(tmv.tm_mday, 2))T"
            + "\(pad(tmv.tm_hour, 2)):\(pad(tmv.tm_min, 2)):\(pad(tmv.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
    }
}

enum Base64URL {
    static func encode(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> String? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        guard let d = Data(base64Encoded: s) else { return nil }
        return String(data: d, encoding: .utf8)
    }
}

/// Opens once; waiters resume when it opens (or when their own deadline passes).
final class Latch: Sendable {
    private let state = Locked<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.isOpen = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.isOpen { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// Waits until the latch opens, but at most `limit`.
    func wait(atMost limit: Duration) async {
        if state.withLock({ $0.isOpen }) { return }
        let once = Locked(false)
        @Sendable func claim() -> Bool { once.withLock { done in defer { done = true }; return !done } }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Task {
                await self.wait()
                if claim() { c.resume() }
            }
            Task {
                try? await Task.sleep(for: limit)
                if claim() { c.resume() }
            }
        }
    }
}
