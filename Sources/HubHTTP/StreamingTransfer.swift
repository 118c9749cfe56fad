import Foundation
internal import CCurl
import HubCore

/// What a streaming request's owner does with a piece of body.
public enum BodyDisposition: Sendable {
    case accepted
    /// Stop delivering for now; the owner calls `resume()` later and the same bytes come again.
    case pause
    /// Abort the transfer.
    case abort
}

/// Receives a streaming response as it arrives, on the thread driving the `MultiDriver`.
public protocol StreamingDelegate: AnyObject {
    /// All headers of the final response arrived. Return false to abort.
    func transferDidReceiveHeaders(_ t: StreamingTransfer, status: Int, headers: HTTPHeaders) -> Bool
    /// A piece of body.
    func transferDidReceive(_ t: StreamingTransfer, _ bytes: UnsafeRawBufferPointer) -> BodyDisposition
}

/// How a transfer ended, as far as the transport is concerned.
public enum TransportOutcome: Sendable, Equatable {
    case completed
    /// The delegate aborted it.
    case aborted
    /// No progress within the stall timeout, or the total timeout passed.
    case timedOut(String)
    /// Connection refused, reset, body shorter than announced, and other transport faults.
    case failed(String)
}

/// One GET streamed through a `MultiDriver`. Redirects are not followed: a 3xx completes with
/// `redirectURL` set, and the owner decides where to go (and whether the token goes along).
public final class StreamingTransfer: @unchecked Sendable {
    public let url: String
    let easy = EasyHandle()
    weak var delegate: (any StreamingDelegate)?
    var headers = HTTPHeaders()
    var status = 0
    var headersDelivered = false
    var aborted = false
    public private(set) var isPaused = false
    /// Free slot for the owner.
    public weak var context: AnyObject?

    /// - Parameters:
    ///   - stallTimeout: abort when fewer than 1 KiB/s arrive for this many seconds.
    public init(url: String, headers: [(String, String)], credentials: Credentials, userAgent: String = UserAgent.value,
                connectTimeout: Double = 15, stallTimeout: Double = 30, delegate: any StreamingDelegate) {
        self.url = url
        self.delegate = delegate
        easy.applyCommon(userAgent: userAgent, connectTimeout: connectTimeout)
        easy.set(CURLOPT_URL, url)
        var h = headers
        if let auth = credentials.authorizationHeader(for: url) { h.append(auth) }
        h.append(("Accept-Encoding", "identity"))
        easy.setHeaders(h)
        easy.set(CURLOPT_LOW_SPEED_LIMIT, 1024)
        easy.set(CURLOPT_LOW_SPEED_TIME, max(1, Int(stallTimeout.rounded(.up))))
        easy.set(CURLOPT_BUFFERSIZE, 256 * 1024)
        let ud = Unmanaged.passUnretained(self).toOpaque()
        easy.setCallback(CURLOPT_WRITEFUNCTION, streamWrite)
        easy.setPointer(CURLOPT_WRITEDATA, ud)
        easy.setCallback(CURLOPT_HEADERFUNCTION, streamHeader)
        easy.setPointer(CURLOPT_HEADERDATA, ud)
    }

    /// The absolute target of a 3xx answer.
    public var redirectURL: String? {
        guard (300..<400).contains(status) else { return nil }
        return easy.redirectURL ?? headers["Location"].flatMap { resolveURL($0, against: url) }
    }

    public var responseStatus: Int { status }
    public var responseHeaders: HTTPHeaders { headers }

    /// Continues a paused transfer. curl may deliver the held bytes from inside this call.
    public func resume() {
        guard isPaused else { return }
        isPaused = false
        curl_easy_pause(easy.handle, hm_pause_cont())
    }

    fileprivate func onHeaderLine(_ line: String) -> Bool {
        if line.hasPrefix("HTTP/") {
            headers = HTTPHeaders()
            let parts = line.split(separator: " ")
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            return true
        }
        if line == "\r\n" || line == "\n" {
            // End of one response's headers. 1xx answers are followed by the real one.
            if status >= 200 && !headersDelivered {
                headersDelivered = true
                if let d = delegate, !d.transferDidReceiveHeaders(self, status: status, headers: headers) {
                    aborted = true
                    return false
                }
            }
            return true
        }
        headers.parseLine(line)
        return true
    }

    fileprivate func onBody(_ buf: UnsafeRawBufferPointer) -> Int {
        // 3xx bodies are never meant for us.
        if (300..<400).contains(status) { return buf.count }
        guard let d = delegate else { aborted = true; return 0 }
        switch d.transferDidReceive(self, buf) {
        case .accepted: return buf.count
        case .pause:
            isPaused = true
            return Int(hm_write_pause())
        case .abort:
            aborted = true
            return 0
        }
    }
}

private let streamWrite: hm_curl_data_cb = { ptr, size, n, ud in
    let t = Unmanaged<StreamingTransfer>.fromOpaque(ud!).takeUnretainedValue()
    return t.onBody(UnsafeRawBufferPointer(start: ptr, count: size * n))
}

private let streamHeader: hm_curl_data_cb = { ptr, size, n, ud in
    let t = Unmanaged<StreamingTransfer>.fromOpaque(ud!).takeUnretainedValue()
    let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: size * n), as: UTF8.self)
    return t.onHeaderLine(line) ? size * n : 0
}

/// A libcurl multi handle: drives many `StreamingTransfer`s over shared, kept-alive connections.
/// All calls must come from one thread, except `wakeup()`.
public final class MultiDriver: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private var transfers: [UnsafeMutableRawPointer: StreamingTransfer] = [:]

    public init(maxTotalConnections: Int) {
        Curl.ensureInitialized()
        guard let m = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        multi = m
        hm_multi_setopt_long(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, max(1, maxTotalConnections))
        hm_multi_setopt_long(m, CURLMOPT_MAXCONNECTS, max(4, maxTotalConnections * 2))
    }

    deinit {
        for (h, _) in transfers { curl_multi_remove_handle(multi, h) }
        curl_multi_cleanup(multi)
    }

    public var activeCount: Int { transfers.count }

    public func add(_ t: StreamingTransfer) {
        transfers[t.easy.handle] = t
        curl_multi_add_handle(multi, t.easy.handle)
    }

    public func remove(_ t: StreamingTransfer) {
        if transfers.removeValue(forKey: t.easy.handle) != nil {
            curl_multi_remove_handle(multi, t.easy.handle)
        }
    }

    /// Moves data and returns the transfers that finished (already removed from the driver).
    public func perform() -> [(StreamingTransfer, TransportOutcome)] {
        var running: Int32 = 0
        curl_multi_perform(multi, &running)
        var done: [(StreamingTransfer, TransportOutcome)] = []
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            guard hm_msg_is_done(msg) != 0, let h = hm_msg_easy(msg), let t = transfers[h] else { continue }
            let code = hm_msg_result(msg)
            let outcome: TransportOutcome
            if t.aborted {
                outcome = .aborted
            } else if code == CURLE_OK {
                outcome = .completed
            } else if code == CURLE_OPERATION_TIMEDOUT {
                outcome = .timedOut(EasyHandle.describe(code))
            } else {
                outcome = .failed(EasyHandle.describe(code))
            }
            done.append((t, outcome))
        }
        for (t, _) in done { remove(t) }
        return done
    }

    /// Waits for socket activity, a `wakeup()`, or the timeout.
    public func poll(timeoutMs: Int) {
        var n: Int32 = 0
        curl_multi_poll(multi, nil, 0, Int32(max(0, timeoutMs)), &n)
    }

    /// Interrupts `poll` from any thread.
    public func wakeup() { curl_multi_wakeup(multi) }
}
