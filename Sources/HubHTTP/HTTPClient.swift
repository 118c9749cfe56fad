import Foundation
internal import CCurl
import HubCore

/// Collects one response's headers and body from curl callbacks.
final class ResponseCollector {
    var headers = HTTPHeaders()
    var body: [UInt8] = []
    var statusLine: String?
    let maxBody: Int
    var overflow = false

    init(maxBody: Int) { self.maxBody = maxBody }

    func headerLine(_ line: String) {
        if line.hasPrefix("HTTP/") {
            // A new response (e.g. after `100 Continue`): start over.
            headers = HTTPHeaders()
            statusLine = line
        } else {
            headers.parseLine(line)
        }
    }
}

private let collectBody: hm_curl_data_cb = { ptr, size, n, ud in
    let c = Unmanaged<ResponseCollector>.fromOpaque(ud!).takeUnretainedValue()
    let count = size * n
    if c.body.count + count > c.maxBody {
        c.overflow = true
        return 0
    }
    if let ptr { c.body.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: count)) }
    return count
}

private let collectHeader: hm_curl_data_cb = { ptr, size, n, ud in
    let c = Unmanaged<ResponseCollector>.fromOpaque(ud!).takeUnretainedValue()
    let count = size * n
    if let ptr {
        c.headerLine(String(decoding: UnsafeRawBufferPointer(start: ptr, count: count), as: UTF8.self))
    }
    return count
}

/// A blocking HTTP client over libcurl for API calls (small bodies). Redirects are followed by hand
/// so that the token only ever goes to its own origin. Safe to use from several threads: each call
/// uses its own easy handle.
public final class HTTPClient: Sendable {
    public let credentials: Credentials
    public let userAgent: String
    public let connectTimeout: Double
    /// Largest body accepted (API answers); larger ones are a protocol error.
    public let maxBody: Int

    public init(credentials: Credentials, userAgent: String = UserAgent.value, connectTimeout: Double = 15, maxBody: Int = 512 << 20) {
        self.credentials = credentials
        self.userAgent = userAgent
        self.connectTimeout = connectTimeout
        self.maxBody = maxBody
    }

    /// Performs exactly one request (no redirects). Transport failures throw `.network`; a user agent,
    /// timeout, URL or method libcurl refuses throws `.usage`.
    public func performOnce(_ request: HTTPRequest) throws -> HTTPResponse {
        let easy = EasyHandle()
        try easy.applyCommon(userAgent: userAgent, connectTimeout: connectTimeout)
        try easy.set(CURLOPT_URL, request.url, supplied: "URL \(Redact.url(request.url).prefix(200))")
        var headers = request.headers
        if let auth = credentials.authorizationHeader(for: request.url) { headers.append(auth) }
        headers.append(("Accept-Encoding", "identity"))
        easy.setHeaders(headers)
        if request.timeout > 0 { try easy.set(CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000), supplied: "timeout \(request.timeout) s") }
        switch request.method {
        case "GET": break
        case "HEAD": easy.set(CURLOPT_NOBODY, 1)
        case "POST": easy.setBody(request.body ?? [])
        default:
            try easy.set(CURLOPT_CUSTOMREQUEST, request.method, supplied: "method '\(request.method.prefix(200))'")
            if let b = request.body { easy.setBody(b) }
        }
        let collector = ResponseCollector(maxBody: maxBody)
        let ud = Unmanaged.passUnretained(collector).toOpaque()
        easy.setCallback(CURLOPT_WRITEFUNCTION, collectBody)
        easy.setPointer(CURLOPT_WRITEDATA, ud)
        easy.setCallback(CURLOPT_HEADERFUNCTION, collectHeader)
        easy.setPointer(CURLOPT_HEADERDATA, ud)
        let rc = withExtendedLifetime(collector) { curl_easy_perform(easy.handle) }
        if collector.overflow {
            throw HubError(.protocolViolation, "answer from \(Redact.url(request.url)) is larger than \(maxBody) bytes")
        }
        if rc != CURLE_OK {
            throw HubError(.network, "\(request.method) \(Redact.url(request.url)) failed: \(EasyHandle.describe(rc))")
        }
        let status = easy.responseCode
        return HTTPResponse(status: status, headers: collector.headers, body: collector.body, url: request.url,
                            redirectURL: (300..<400).contains(status) ? easy.redirectURL : nil)
    }

    /// Performs a request following up to `maxRedirects` redirects. The Authorization header is
    /// re-decided for every hop from the hop's origin, so it never reaches another host.
    public func send(_ request: HTTPRequest, maxRedirects: Int = 10) throws -> HTTPResponse {
        var req = request
        for _ in 0...maxRedirects {
            let resp = try performOnce(req)
            guard resp.isRedirect else { return resp }
            guard let next = resp.redirectURL ?? resp.headers["Location"].flatMap({ resolveURL($0, against: req.url) }) else {
                throw HubError(.protocolViolation, "redirect \(resp.status) from \(Redact.url(req.url)) without a Location")
            }
            try RedirectPolicy.check(next, from: req.url, what: "\(req.method) \(Redact.url(request.url))")
            req.url = next
            if resp.status == 303 { req.method = "GET"; req.body = nil }
        }
        throw HubError(.protocolViolation, "too many redirects starting at \(Redact.url(request.url))")
    }
}

/// Strips query strings (signed URLs carry credentials) from URLs before they are logged.
public enum Redact {
    public static func url(_ url: String) -> String {
        guard let q = url.firstIndex(of: "?") else { return url }
        return String(url[..<q]) + "?…"
    }
}
