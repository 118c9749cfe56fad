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
    // Strong: the driver owns the transfer while it runs, the transfer its delegate. A weak
    // reference here (or anywhere to the delegate) gives it a side table, and every retain and
    // release of it on the per-callback path then takes the runtime's slow path (3% of a 4 GiB
    // sync's cycles). So the owner must not hold the transfer strongly (no cycle).
    let delegate: any StreamingDelegate
    var headers = HTTPHeaders()
    var status = 0
    var headersDelivered = false
    var aborted = false
    public private(set) var isPaused = false
    /// Why curl refused this transfer's set-up (a caller-supplied value); `MultiDriver.add` then
    /// finishes it as `.failed` instead of starting it.
    private(set) var setupFailure: String?
    /// Why `resume()` failed; the next `MultiDriver.perform` finishes the transfer with it.
    private(set) var resumeFailure: String?
    /// Free slot for the owner, held strongly like the delegate (see there).
    public var context: AnyObject?

    /// - Parameters:
    ///   - stallTimeout: abort when fewer than 1 KiB/s arrive for this many seconds.
    ///   - receiveBuffer: the most bytes curl reads from the socket at once (and keeps aside for a paused transfer).
    public init(url: String, headers: [(String, String)], credentials: Credentials, userAgent: String = UserAgent.value,
                connectTimeout: Double = 15, stallTimeout: Double = 30, receiveBuffer: Int = 256 << 10,
                delegate: any StreamingDelegate) {
        self.url = url
        self.delegate = delegate
        do throws(HubError) {
            try easy.applyCommon(userAgent: userAgent, connectTimeout: connectTimeout)
            try easy.set(CURLOPT_URL, url, supplied: "URL \(Redact.url(url).prefix(200))")
            try easy.set(CURLOPT_LOW_SPEED_TIME, max(1, Int(stallTimeout.rounded(.up))), supplied: "stall timeout \(stallTimeout) s")
        } catch {
            // The init cannot throw (its callers build transfers in bulk); the driver reports it instead.
            setupFailure = error.message
        }
        var h = headers
        if let auth = credentials.authorizationHeader(for: url) { h.append(auth) }
        h.append(("Accept-Encoding", "identity"))
        easy.setHeaders(h)
        easy.set(CURLOPT_LOW_SPEED_LIMIT, 1024)
        easy.set(CURLOPT_BUFFERSIZE, receiveBuffer)
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

    /// Continues a paused transfer. curl may deliver the held bytes from inside this call; when that
    /// fails, the driver's next `perform()` finishes the transfer (`.aborted` if the delegate aborted it,
    /// else `.failed` with curl's reason).
    public func resume() {
        guard isPaused else { return }
        isPaused = false
        let rc = curl_easy_pause(easy.handle, hm_pause_cont())
        if rc != CURLE_OK { resumeFailure = "curl_easy_pause: \(EasyHandle.describe(rc))" }
    }

    fileprivate func onHeaderLine(_ line: UnsafeRawBufferPointer) -> Bool {
        if HTTPHeaders.isStatusLine(line) {
            headers = HTTPHeaders()
            let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 2)
            status = parts.count > 1 ? Int(String(decoding: parts[1], as: UTF8.self)) ?? 0 : 0
            return true
        }
        if HTTPHeaders.trimmed(line).isEmpty {
            // End of one response's headers. 1xx answers are followed by the real one.
            if status >= 200 && !headersDelivered {
                headersDelivered = true
                if !delegate.transferDidReceiveHeaders(self, status: status, headers: headers) {
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
        switch delegate.transferDidReceive(self, buf) {
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

// The driver holds the transfer for as long as curl may call back, so the callbacks borrow it without
// a retain and release (which take the runtime's slow path for an object something refers to weakly).
private let streamWrite: hm_curl_data_cb = { ptr, size, n, ud in
    Unmanaged<StreamingTransfer>.fromOpaque(ud!)._withUnsafeGuaranteedRef { $0.onBody(UnsafeRawBufferPointer(start: ptr, count: size * n)) }
}

private let streamHeader: hm_curl_data_cb = { ptr, size, n, ud in
    Unmanaged<StreamingTransfer>.fromOpaque(ud!)._withUnsafeGuaranteedRef {
        $0.onHeaderLine(UnsafeRawBufferPointer(start: ptr, count: size * n)) ? size * n : 0
    }
}

/// A libcurl multi handle: drives many `StreamingTransfer`s over shared, kept-alive connections.
/// All calls must come from one thread, except `wakeup()`.
///
/// A failed multi call never goes unnoticed: the transfers it concerns finish with
/// `TransportOutcome.failed` naming the call and curl's reason, returned by the next `perform()`,
/// so the owner retries or fails the run as for any transport failure.
public final class MultiDriver: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private var transfers: [UnsafeMutableRawPointer: StreamingTransfer] = [:]
    /// Transfers that finished without running (refused set-up, failed add), in the order added.
    private var finishedEarly: [(StreamingTransfer, TransportOutcome)] = []
    /// Why the last `poll` failed, until `perform()` fails the running transfers with it.
    private var pollFailure: String?

    public init(maxTotalConnections: Int) {
        Curl.ensureInitialized()
        guard let m = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        multi = m
        Self.check(hm_multi_setopt_long(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, max(1, maxTotalConnections)), "curl_multi_setopt(MAX_TOTAL_CONNECTIONS)")
        Self.check(hm_multi_setopt_long(m, CURLMOPT_MAXCONNECTS, max(4, maxTotalConnections * 2)), "curl_multi_setopt(MAXCONNECTS)")
    }

    deinit {
        for (h, _) in transfers { Self.check(curl_multi_remove_handle(multi, h), "curl_multi_remove_handle") }
        Self.check(curl_multi_cleanup(multi), "curl_multi_cleanup")
    }

    /// Transfers added and not yet returned by `perform()` or removed.
    public var activeCount: Int { transfers.count + finishedEarly.count }

    /// Starts `t`. When curl refused its set-up or the multi handle refuses it, it is not started and
    /// the next `perform()` returns it as `.failed` with the reason.
    public func add(_ t: StreamingTransfer) {
        if let reason = t.setupFailure {
            finishedEarly.append((t, .failed(reason)))
            return
        }
        let mc = curl_multi_add_handle(multi, t.easy.handle)
        guard mc == CURLM_OK else {
            finishedEarly.append((t, .failed("curl_multi_add_handle: \(Self.describe(mc))")))
            return
        }
        transfers[t.easy.handle] = t
    }

    /// Stops `t` without reporting it (the owner gave it up).
    public func remove(_ t: StreamingTransfer) {
        if transfers.removeValue(forKey: t.easy.handle) != nil {
            // Fails only for a handle not in this multi or a call from inside a curl callback: both bugs.
            Self.check(curl_multi_remove_handle(multi, t.easy.handle), "curl_multi_remove_handle")
        } else {
            finishedEarly.removeAll { $0.0 === t }
        }
    }

    /// Moves data and returns the transfers that finished (already removed from the driver).
    public func perform() -> [(StreamingTransfer, TransportOutcome)] {
        var done = finishedEarly
        finishedEarly = []
        var running: Int32 = 0
        let mc = curl_multi_perform(multi, &running)
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
        let finished = Set(done.map { ObjectIdentifier($0.0) })
        // A failed perform or poll means the multi handle cannot move what is left (it would wait
        // forever, or spin); a failed resume concerns one transfer. Ordered by handle for stable results.
        let multiFailure = mc != CURLM_OK ? "curl_multi_perform: \(Self.describe(mc))" : pollFailure
        pollFailure = nil
        if multiFailure != nil || transfers.values.contains(where: { $0.resumeFailure != nil }) {
            for t in transfers.sorted(by: { $0.key < $1.key }).map(\.value) where !finished.contains(ObjectIdentifier(t)) {
                guard let reason = multiFailure ?? t.resumeFailure else { continue }
                done.append((t, t.aborted ? .aborted : .failed(reason)))
            }
        }
        for (t, _) in done { remove(t) }
        return done
    }

    /// Waits for socket activity, a `wakeup()`, or the timeout. A failed wait makes the next
    /// `perform()` fail the running transfers.
    public func poll(timeoutMs: Int) {
        var n: Int32 = 0
        let mc = curl_multi_poll(multi, nil, 0, Int32(max(0, timeoutMs)), &n)
        if mc != CURLM_OK { pollFailure = "curl_multi_poll: \(Self.describe(mc))" }
    }

    /// Interrupts `poll` from any thread.
    public func wakeup() {
        // Ignored on failure: `poll` then just waits out its timeout.
        _ = curl_multi_wakeup(multi)
    }

    static func describe(_ code: CURLMcode) -> String { String(cString: curl_multi_strerror(code)) }

    /// For multi calls that can only fail through a bug (bad handle, a call from inside a callback).
    private static func check(_ mc: CURLMcode, _ call: @autoclosure () -> String) {
        precondition(mc == CURLM_OK, "\(call()) failed: \(describe(mc))")
    }
}
