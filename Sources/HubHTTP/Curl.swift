import Foundation
internal import CCurl
import HubCore

/// Process-wide libcurl set-up. `curl_global_init` runs once; `curl_global_cleanup` never runs
/// (FoundationNetworking in the same process may share libcurl).
public enum Curl {
    private static let initialized: Bool = {
        let rc = curl_global_init(hm_global_all())
        precondition(rc == CURLE_OK, "curl_global_init failed: \(EasyHandle.describe(rc))")
        return true
    }()

    public static func ensureInitialized() { _ = initialized }

    public static var version: String { String(cString: curl_version()) }
}

/// One libcurl easy handle. Owns the handle, the header list and every string it hands to curl.
final class EasyHandle {
    let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var body: [UInt8]?

    init() {
        Curl.ensureInitialized()
        guard let h = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        handle = h
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
    }

    // Options whose value hubmirror chooses itself: curl refusing one is a programming error (or a
    // libcurl too old for it), so these stop with the option's name and curl's reason.
    func set(_ opt: CURLoption, _ v: Int) { Self.check(hm_easy_setopt_long(handle, opt, v), opt) }
    func set(_ opt: CURLoption, _ v: String) { Self.check(v.withCString { hm_easy_setopt_string(handle, opt, $0) }, opt) } // curl copies strings
    func setOffset(_ opt: CURLoption, _ v: Int64) { Self.check(hm_easy_setopt_off(handle, opt, curl_off_t(v)), opt) }
    func setPointer(_ opt: CURLoption, _ v: UnsafeMutableRawPointer?) { Self.check(hm_easy_setopt_pointer(handle, opt, v), opt) }
    func setCallback(_ opt: CURLoption, _ cb: hm_curl_data_cb) { Self.check(hm_easy_setopt_data_cb(handle, opt, cb), opt) }

    /// Sets an option from a value a caller supplied (`what` names it, e.g. "connect timeout -1.0 s");
    /// curl refusing it is a usage error.
    func set(_ opt: CURLoption, _ v: Int, supplied what: @autoclosure () -> String) throws(HubError) {
        try Self.check(hm_easy_setopt_long(handle, opt, v), opt, supplied: what())
    }

    /// Sets a string option from a value a caller supplied; curl refusing it is a usage error.
    func set(_ opt: CURLoption, _ v: String, supplied what: @autoclosure () -> String) throws(HubError) {
        try Self.check(v.withCString { hm_easy_setopt_string(handle, opt, $0) }, opt, supplied: what())
    }

    func setHeaders(_ headers: [(String, String)]) {
        if let headerList { curl_slist_free_all(headerList) }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (n, v) in headers { list = curl_slist_append(list, "\(n): \(v)") }
        headerList = list
        Self.check(hm_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list), CURLOPT_HTTPHEADER)
    }

    func setBody(_ bytes: [UInt8]) {
        body = bytes
        set(CURLOPT_POSTFIELDSIZE, bytes.count)
        body!.withUnsafeMutableBytes { setPointer(CURLOPT_POSTFIELDS, $0.baseAddress) }
    }

    var responseCode: Int {
        var v: Int = 0
        let rc = hm_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &v)
        precondition(rc == CURLE_OK, "curl_easy_getinfo(RESPONSE_CODE) failed: \(Self.describe(rc))")
        return v
    }

    var redirectURL: String? {
        var p: UnsafeMutablePointer<CChar>? = nil
        let rc = hm_easy_getinfo_string(handle, CURLINFO_REDIRECT_URL, &p)
        precondition(rc == CURLE_OK, "curl_easy_getinfo(REDIRECT_URL) failed: \(Self.describe(rc))")
        return p.map { String(cString: $0) }
    }

    /// Options every hubmirror request shares: no automatic redirects (token policy is ours),
    /// no compression (sizes must match), keep-alive, HTTP/2 over TLS when offered. Throws `.usage`
    /// when curl refuses the user agent or the connect timeout.
    func applyCommon(userAgent: String, connectTimeout: Double) throws(HubError) {
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_TCP_KEEPALIVE, 1)
        set(CURLOPT_HTTP_VERSION, Int(hm_http_version_2tls()))
        try set(CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000), supplied: "connect timeout \(connectTimeout) s")
        try set(CURLOPT_USERAGENT, userAgent, supplied: "user agent '\(userAgent.prefix(200))'")
        set(CURLOPT_PROTOCOLS_STR, "http,https")
    }

    /// The option's name as curl spells it without the prefix (`CONNECTTIMEOUT_MS`), or its number.
    static func name(_ opt: CURLoption) -> String {
        curl_easy_option_by_id(opt).map { String(cString: $0.pointee.name) } ?? "option \(opt.rawValue)"
    }

    private static func check(_ rc: CURLcode, _ opt: CURLoption) {
        precondition(rc == CURLE_OK, "curl_easy_setopt(CURLOPT_\(name(opt))) failed: \(describe(rc))")
    }

    private static func check(_ rc: CURLcode, _ opt: CURLoption, supplied what: @autoclosure () -> String) throws(HubError) {
        guard rc == CURLE_OK else {
            throw HubError(.usage, "libcurl does not accept \(what()) (CURLOPT_\(name(opt))): \(describe(rc))")
        }
    }

    static func describe(_ code: CURLcode) -> String { String(cString: curl_easy_strerror(code)) }
}

/// The user agent hubmirror sends.
public enum UserAgent {
    public static let value = "hubmirror/0.1; libcurl/\(curlVersionNumber)"
    static var curlVersionNumber: String {
        let v = Curl.version
        if let r = v.range(of: "libcurl/") {
            return String(v[r.upperBound...].prefix { $0 != " " })
        }
        return "?"
    }
}
