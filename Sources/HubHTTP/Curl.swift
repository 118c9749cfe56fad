import Foundation
internal import CCurl
import HubCore

/// Process-wide libcurl set-up. `curl_global_init` runs once; `curl_global_cleanup` never runs
/// (FoundationNetworking in the same process may share libcurl).
public enum Curl {
    private static let initialized: Bool = {
        curl_global_init(hm_global_all())
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

    func set(_ opt: CURLoption, _ v: Int) { hm_easy_setopt_long(handle, opt, v) }
    func set(_ opt: CURLoption, _ v: String) { _ = v.withCString { hm_easy_setopt_string(handle, opt, $0) } } // curl copies strings
    func setOffset(_ opt: CURLoption, _ v: Int64) { hm_easy_setopt_off(handle, opt, curl_off_t(v)) }
    func setPointer(_ opt: CURLoption, _ v: UnsafeMutableRawPointer?) { hm_easy_setopt_pointer(handle, opt, v) }
    func setCallback(_ opt: CURLoption, _ cb: hm_curl_data_cb) { hm_easy_setopt_data_cb(handle, opt, cb) }

    func setHeaders(_ headers: [(String, String)]) {
        if let headerList { curl_slist_free_all(headerList) }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (n, v) in headers { list = curl_slist_append(list, "\(n): \(v)") }
        headerList = list
        hm_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
    }

    func setBody(_ bytes: [UInt8]) {
        body = bytes
        set(CURLOPT_POSTFIELDSIZE, bytes.count)
        body!.withUnsafeMutableBytes { setPointer(CURLOPT_POSTFIELDS, $0.baseAddress) }
    }

    var responseCode: Int {
        var v: Int = 0
        hm_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &v)
        return v
    }

    var redirectURL: String? {
        var p: UnsafeMutablePointer<CChar>? = nil
        hm_easy_getinfo_string(handle, CURLINFO_REDIRECT_URL, &p)
        return p.map { String(cString: $0) }
    }

    /// Options every hubmirror request shares: no automatic redirects (token policy is ours),
    /// no compression (sizes must match), keep-alive, HTTP/2 over TLS when offered.
    func applyCommon(userAgent: String, connectTimeout: Double) {
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_TCP_KEEPALIVE, 1)
        set(CURLOPT_HTTP_VERSION, Int(hm_http_version_2tls()))
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        set(CURLOPT_USERAGENT, userAgent)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
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
