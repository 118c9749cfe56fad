import Foundation
import HubCore

/// Response headers: case-insensitive names, repeated names kept in order.
public struct HTTPHeaders: Sendable, Sequence {
    public private(set) var fields: [(name: String, value: String)] = []

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    /// The first value for `name`, compared case-insensitively.
    public subscript(_ name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    public func values(_ name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    /// Parses one raw header line (`Name: value\r\n`); returns false for a status line or blank line.
    @discardableResult
    public mutating func parseLine(_ line: String) -> Bool {
        var l = line
        return l.withUTF8 { parseLine(UnsafeRawBufferPointer($0)) }
    }

    /// `parseLine` on the line's bytes as curl hands them over (no `String` of the whole line, no
    /// Foundation trimming: this runs for every header of every ranged request).
    @discardableResult
    public mutating func parseLine(_ line: UnsafeRawBufferPointer) -> Bool {
        guard !Self.isStatusLine(line), let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return false }
        let name = Self.trimmed(UnsafeRawBufferPointer(rebasing: line[..<colon]))
        let value = Self.trimmed(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
        add(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
        return true
    }

    /// Whether a raw header line is a status line (`HTTP/1.1 206 Partial Content`).
    public static func isStatusLine(_ line: UnsafeRawBufferPointer) -> Bool {
        line.count >= 5 && line[0] == UInt8(ascii: "H") && line[1] == UInt8(ascii: "T") && line[2] == UInt8(ascii: "T")
            && line[3] == UInt8(ascii: "P") && line[4] == UInt8(ascii: "/")
    }

    /// Without leading and trailing spaces, tabs and line ends.
    static func trimmed(_ b: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        func blank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A || c == 0x0B || c == 0x0C }
        var lo = 0, hi = b.count
        while lo < hi && blank(b[lo]) { lo += 1 }
        while hi > lo && blank(b[hi - 1]) { hi -= 1 }
        return UnsafeRawBufferPointer(rebasing: b[lo..<hi])
    }

    /// Header names compare case-insensitively (ASCII, as RFC 9110 names are tokens).
    static func sameName(_ a: String, _ b: String) -> Bool {
        func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
        return a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lower($0) == lower($1) }
    }
}

/// A request: method, absolute URL, headers, optional body.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// Total time allowed for the request, seconds (0 = none).
    public var timeout: Double

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Double = 60) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A complete response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The URL that produced this response (after any redirects followed).
    public var url: String
    /// For a 3xx: the absolute URL it points to.
    public var redirectURL: String?

    public init(status: Int, headers: HTTPHeaders, body: [UInt8], url: String, redirectURL: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.redirectURL = redirectURL
    }

    public var isRedirect: Bool { [301, 302, 303, 307, 308].contains(status) }
}

/// Scheme, host and port of a URL: the unit a token is bound to.
public struct Origin: Hashable, Sendable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int

    public init?(url: String) {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), let host = c.host?.lowercased(), !host.isEmpty else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = c.port ?? (scheme == "https" ? 443 : 80)
    }

    public var description: String { "\(scheme)://\(host):\(port)" }
}

/// A bearer token and the one origin it may be sent to. Its description never shows the token.
public struct Credentials: Sendable, CustomStringConvertible {
    public let token: String?
    public let origin: Origin?

    public init(token: String?, endpoint: String) {
        self.token = (token?.isEmpty ?? true) ? nil : token
        self.origin = Origin(url: endpoint)
    }

    public static let none = Credentials(token: nil, endpoint: "")

    /// The Authorization header for `url`, only when it is on the token's origin.
    public func authorizationHeader(for url: String) -> (String, String)? {
        guard let token, let origin, Origin(url: url) == origin else { return nil }
        return ("Authorization", "Bearer \(token)")
    }

    public var description: String { token == nil ? "no token" : "token for \(origin?.description ?? "?")" }
}

/// Resolves `location` (absolute or relative) against `base`.
public func resolveURL(_ location: String, against base: String) -> String? {
    guard let b = URL(string: base), let u = URL(string: location, relativeTo: b) else { return nil }
    return u.absoluteString
}
