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
        let n = name.lowercased()
        return fields.first { $0.name.lowercased() == n }?.value
    }

    public func values(_ name: String) -> [String] {
        let n = name.lowercased()
        return fields.filter { $0.name.lowercased() == n }.map(\.value)
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    /// Parses one raw header line (`Name: value\r\n`); returns false for a status line or blank line.
    @discardableResult
    public mutating func parseLine(_ line: String) -> Bool {
        guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("HTTP/") else { return false }
        let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespacesAndNewlines)
        add(name, value)
        return true
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
