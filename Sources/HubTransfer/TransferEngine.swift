import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HubCore
import HubDigest
import HubHTTP
import HubStore
import Logging

/// Tuning and limits of a transfer run.
public struct TransferOptions: Sendable {
    /// Most requests in flight at once, across all files.
    public var connections: Int = 8
    /// Most files downloading at once (each may use several connections).
    public var maxFiles: Int = 8
    /// Chunk size for ranged requests; nil picks one per file.
    public var chunkSize: Int64? = nil
    /// Average download rate limit in bytes per second.
    public var maxRate: Int64? = nil
    /// Abort a request that moves less than 1 KiB/s for this long.
    public var stallTimeout: Double = 30
    public var connectTimeout: Double = 15
    public var retry: RetryPolicy = .standard
    /// How often in-flight progress is written to the resume journals.
    public var journalInterval: Double = 0.5
    /// `fdatasync` every file before it is published (a power loss then cannot leave a published blob
    /// truncated). Off: trust the page cache, as most downloaders do.
    public var durable: Bool = true
    /// How many times a file whose digest did not match is fetched again.
    public var corruptionRetries: Int = 2
    /// Polled by the engine; when true it stops, keeping partial data and journals.
    public var shouldStop: @Sendable () -> Bool = { false }

    public init() {}
}

/// One file to fetch: its manifest entry and where to ask for it.
public struct FileJob: Sendable {
    public var entry: ManifestEntry
    /// The resolve URL on the endpoint; redirects from there are followed.
    public var url: String
    /// Names the file in messages, e.g. `acme/tiny:model.bin`.
    public var label: String

    public init(entry: ManifestEntry, url: String, label: String) {
        self.entry = entry
        self.url = url
        self.label = label
    }
}

/// Things worth telling a user or a test while a transfer runs.
public enum TransferEvent: Sendable {
    case fileStarted(label: String, size: Int64, resumedBytes: Int64)
    /// Bytes received this run and bytes still to receive, across all files.
    case progress(received: Int64, total: Int64)
    /// Ranges of a file now recorded in its journal (a `kill -9` after this loses none of them).
    case journaled(label: String, bytes: Int64)
    /// The contiguous prefix of a file that is written to its partial file and read back for
    /// hashing now ends at `bytes` (not yet verified: the digest is known only at the end).
    case prefixWritten(label: String, bytes: Int64)
    case retrying(label: String, message: String, delay: Double)
    case corrupted(label: String, source: String, attempt: Int)
    case fileVerified(label: String, sha256: String)
    case fileFailed(label: String, error: HubError)
}

/// The verified digests of a fetched file.
public struct FetchedFile: Sendable {
    public var entry: ManifestEntry
    public var sha256: String
}

/// The outcome of a run: verified files, failures by file, bytes moved.
public struct TransferReport: Sendable {
    public var fetched: [FetchedFile] = []
    public var failures: [(label: String, error: HubError)] = []
    public var bytesReceived: Int64 = 0
    public var resumedBytes: Int64 = 0
    public var interrupted = false

    public init() {}
}

/// Fetches files with parallel ranged GETs over one libcurl multi handle, writes each chunk at its
/// offset in a preallocated partial file, journals progress for crash-safe resume, hashes the
/// contiguous prefix on another core, and hands a file to the store only once its digest matches.
public final class TransferEngine: @unchecked Sendable {
    let options: TransferOptions
    let credentials: Credentials
    let logger: Logger
    let onEvent: @Sendable (TransferEvent) -> Void
    let endpointOrigin: Origin?

    // Engine-thread state.
    var driver: MultiDriver!
    var files: [FileTask] = []
    var report = TransferReport()
    var limiter: RateLimiter?
    var paused: [Transfer] = []
    var fatal: HubError?
    var totalToReceive: Int64 = 0
    var lastJournal = 0.0
    var lastProgress = 0.0

    // Cross-thread inbox (hashers post here).
    let inboxLock = NSLock()
    var inbox: [(FileTask, Result<(sha256: String, gitBlobID: String?), HubError>)] = []

    public init(options: TransferOptions, credentials: Credentials, endpoint: String, logger: Logger,
                onEvent: @escaping @Sendable (TransferEvent) -> Void = { _ in }) {
        self.options = options
        self.credentials = credentials
        self.logger = logger
        self.onEvent = onEvent
        self.endpointOrigin = Origin(url: endpoint)
    }

    /// Where the engine keeps the partial file of content `etag` while fetching it into `target`.
    public static func partialPath(in target: any SyncTarget, etag: String) -> String {
        target.partialDirectory + "/" + etag + ".part"
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Fetches every job into `target`. Blocks the calling thread until all files are verified,
    /// failed, or the run is stopped. Never throws: failures are in the report.
    public func run(jobs: [FileJob], target: any SyncTarget) -> TransferReport {
        driver = MultiDriver(maxTotalConnections: options.connections)
        if let r = options.maxRate { limiter = RateLimiter(bytesPerSecond: r, now: Self.now()) }
        do {
            try FS.mkdirs(target.partialDirectory)
        } catch let e as HubError {
            for j in jobs { report.failures.append((j.label, e)) }
            return report
        } catch {}
        for job in jobs {
            let f = FileTask(job: job, target: target, engine: self)
            do {
                try f.prepare()
                files.append(f)
                totalToReceive += f.size - f.written.totalBytes
                report.resumedBytes += f.written.totalBytes
                onEvent(.fileStarted(label: job.label, size: f.size, resumedBytes: f.written.totalBytes))
                f.startHasher()
            } catch let e as HubError {
                fail(f, e)
                if e.kind == .diskFull || e.kind == .readOnly { fatal = e; break }
            } catch {
                fail(f, HubError(.store, "\(job.label): \(error)"))
            }
        }
        loop()
        // Whatever is left unfinished keeps its partial file and journal for the next run.
        for f in files where f.state == .downloading || f.state == .hashing {
            f.flushJournal()
            f.hasher?.cancel()
            f.closeFiles()
            if let fatal { report.failures.append((f.job.label, fatal)) } else if report.interrupted {
                report.failures.append((f.job.label, HubError(.interrupted, "\(f.job.label): interrupted; partial data kept for resume")))
            }
        }
        driver = nil
        return report
    }

    func loop() {
        while true {
            drainInbox()
            if fatal != nil { abortAll(); return }
            if options.shouldStop() { report.interrupted = true; abortAll(); return }
            let now = Self.now()
            schedule(now: now)
            let busy = files.contains { $0.state == .downloading || $0.state == .hashing }
            if !busy && driver.activeCount == 0 { return }
            for (s, outcome) in driver.perform() {
                if let t = s.context as? Transfer { finished(t, outcome) }
            }
            noteProgress(now: Self.now())
            unpauseIfAllowed()
            driver.poll(timeoutMs: pollTimeout(now: Self.now()))
        }
    }

    func pollTimeout(now: Double) -> Int {
        var t = 100.0
        for f in files where f.state == .downloading {
            for p in f.pending where p.notBefore > now { t = min(t, (p.notBefore - now) * 1000) }
        }
        if let l = limiter, !paused.isEmpty { t = min(t, max(1, l.waitTime() * 1000)) }
        return max(1, Int(t))
    }

    /// Starts requests until every connection is busy.
    func schedule(now: Double) {
        while driver.activeCount < options.connections {
            guard let (f, idx) = nextRequest(now: now) else { return }
            let p = f.pending.remove(at: idx)
            start(f, p)
        }
    }

    func nextRequest(now: Double) -> (FileTask, Int)? {
        let openFiles = files.reduce(0) { $0 + ($1.state == .downloading && $1.inFlight > 0 ? 1 : 0) }
        for f in files where f.state == .downloading {
            if f.inFlight == 0 && openFiles >= options.maxFiles { continue }
            // Until a file's final URL is known (redirects), or when its server ignores Range,
            // only one request for it may be in flight.
            if (f.resolvedURL == nil || f.rangeUnsupported) && f.inFlight > 0 { continue }
            if let i = f.pending.firstIndex(where: { $0.notBefore <= now }) { return (f, i) }
        }
        return nil
    }

    func start(_ f: FileTask, _ p: PendingRange) {
        var range = p.range
        if f.rangeUnsupported {
            // The server only sends whole files: stream it all from 0 again.
            f.pending.removeAll()
            range = ByteRange(0, f.size)
        }
        let url = p.url ?? f.resolvedURL ?? f.job.url
        var headers: [(String, String)] = []
        let wholeFile = range.start == 0 && range.end == f.size
        if !wholeFile { headers.append(("Range", range.httpRange)) }
        let t = Transfer(file: f, range: range, url: url, attempts: p.attempts, hops: p.hops)
        t.urlGeneration = f.urlGeneration
        t.stream = StreamingTransfer(url: url, headers: headers, credentials: credentials,
                                     connectTimeout: options.connectTimeout, stallTimeout: options.stallTimeout, delegate: t)
        t.engine = self
        t.stream?.context = t
        f.inFlight += 1
        f.transfers.append(t)
        driver.add(t.stream!)
    }

    // MARK: - Callbacks from transfers (engine thread)

    /// Checks a response before any body byte is written.
    func validateHeaders(_ t: Transfer, status: Int, headers: HTTPHeaders) -> HubError? {
        let f = t.file
        let fromEndpoint = Origin(url: t.url) == endpointOrigin
        if (300..<400).contains(status) {
            if let ls = headers["X-Linked-Size"].flatMap(Int64.init), ls != f.size {
                return upstreamChanged(f, "size \(ls) instead of \(f.size)")
            }
            if let e = ETag.normalize(headers["X-Linked-Etag"]), ETag.isContentHash(e), e != f.entry.etag {
                return upstreamChanged(f, "ETag \(e) instead of \(f.entry.etag)")
            }
            return nil
        }
        if status >= 400 {
            return statusError(t, status: status, headers: headers, fromEndpoint: fromEndpoint)
        }
        let tag = ETag.normalize(headers["X-Linked-Etag"]) ?? (fromEndpoint ? ETag.normalize(headers["ETag"]) : nil)
        if let e = tag, ETag.isContentHash(e), e != f.entry.etag {
            return upstreamChanged(f, "ETag \(e) instead of \(f.entry.etag)")
        }
        if status == 206 {
            guard let cr = ContentRange.parse(headers["Content-Range"]) else {
                return HubError(.protocolViolation, "\(f.job.label): 206 without a valid Content-Range from \(Redact.url(t.url))")
            }
            if let total = cr.total, total != f.size { return upstreamChanged(f, "size \(total) instead of \(f.size)") }
            guard cr.start == t.cursor, cr.end == t.range.end - 1 else {
                return HubError(.protocolViolation, "\(f.job.label): asked for bytes \(t.cursor)-\(t.range.end - 1), got \(cr.start)-\(cr.end) from \(Redact.url(t.url))")
            }
            return nil
        }
        // 200: the whole file. Fine for a whole-file request; for a ranged one the server ignored Range.
        if let cl = headers["Content-Length"].flatMap(Int64.init), cl != f.size {
            return upstreamChanged(f, "size \(cl) instead of \(f.size)")
        }
        if t.cursor != 0 || t.range.end != f.size {
            f.rangeUnsupported = true
            return HubError(.http, "\(f.job.label): \(Origin(url: t.url)?.host ?? "server") ignored Range (answered 200); fetching the whole file in one stream", retryable: true, retryAfter: 0)
        }
        return nil
    }

    func upstreamChanged(_ f: FileTask, _ what: String) -> HubError {
        HubError(.upstreamChanged, "\(f.job.label) changed upstream since it was listed: \(what)", retryable: false)
    }

    func statusError(_ t: Transfer, status: Int, headers: HTTPHeaders, fromEndpoint: Bool) -> HubError {
        let f = t.file
        if !fromEndpoint && [401, 403, 404, 410].contains(status) {
            // A signed CDN URL expired or was revoked: resolve again from the endpoint.
            t.staleLink = true
            return HubError(.http, "\(f.job.label): CDN answered \(status) (expired link?); resolving again", retryable: true, retryAfter: 0)
        }
        if fromEndpoint && [401, 403, 404].contains(status) {
            let resp = HTTPResponse(status: status, headers: headers, body: [], url: t.url)
            let code = headers["X-Error-Code"]
            switch (status, code) {
            case (404, nil), (_, "EntryNotFound"):
                return HubError(.entryNotFound, "\(f.job.label): file not found upstream (\(status))")
            case (_, "GatedRepo"):
                return HubError(.gated, "\(f.job.label): repository is gated; a token with access is needed")
            case (_, "RepoNotFound"):
                return HubError(.repoNotFound, "\(f.job.label): repository not found or not accessible")
            default:
                return RetryPolicy.error(forStatus: status, headers: resp.headers, url: t.url, what: f.job.label)
                    .map { HubError(.unauthorized, $0.message, retryable: false) }
                    ?? HubError(.unauthorized, "\(f.job.label): HTTP \(status)")
            }
        }
        return RetryPolicy.error(forStatus: status, headers: headers, url: t.url, what: f.job.label)
            ?? HubError(.http, "\(f.job.label): HTTP \(status)")
    }

    /// Takes body bytes for the transfer's offset. Runs inside curl's callback, which delivers at most
    /// 16 KiB at a time, so bytes are gathered in the transfer's buffer and written in large `pwrite`s.
    func receive(_ t: Transfer, _ bytes: UnsafeRawBufferPointer) -> BodyDisposition {
        if var l = limiter {
            let ok = l.tryConsume(bytes.count, now: Self.now())
            limiter = l
            if !ok { paused.append(t); return .pause }
        }
        let f = t.file
        if t.cursor + Int64(bytes.count) > t.range.end {
            t.failure = HubError(.protocolViolation, "\(f.job.label): server sent more bytes than asked for (\(t.range))")
            return .abort
        }
        var off = 0
        while off < bytes.count {
            let n = min(bytes.count - off, t.buffer.count - t.buffered)
            t.buffer.baseAddress!.advanced(by: t.buffered).copyMemory(from: bytes.baseAddress! + off, byteCount: n)
            t.buffered += n
            off += n
            t.cursor += Int64(n)
            if t.buffered == t.buffer.count, !flush(t) { return .abort }
        }
        report.bytesReceived += Int64(bytes.count)
        return .accepted
    }

    /// Writes a transfer's buffered bytes at their offset. False (with `t.failure` set) on a write error.
    @discardableResult
    func flush(_ t: Transfer) -> Bool {
        let f = t.file
        var off = 0
        while off < t.buffered {
            let n = pwrite(f.fd, t.buffer.baseAddress! + off, t.buffered - off, off_t(t.fileCursor) + off_t(off))
            if n < 0 {
                if errno == EINTR { continue }
                let e = FS.error("write", f.partialPath)
                t.failure = e
                if e.kind == .diskFull || e.kind == .readOnly { fatal = e }
                t.buffered = 0
                t.cursor = t.fileCursor
                return false
            }
            off += n
        }
        t.fileCursor += Int64(t.buffered)
        t.buffered = 0
        return true
    }

    func unpauseIfAllowed() {
        guard var l = limiter, !paused.isEmpty else { return }
        l.refill(now: Self.now())
        limiter = l
        guard l.waitTime() == 0 else { return }
        let list = paused
        paused.removeAll()
        for t in list where t.stream?.isPaused == true { t.stream?.resume() }
    }

    /// A request ended: record its bytes, then retry, follow, or finish.
    func finished(_ t: Transfer, _ outcome: TransportOutcome) {
        let f = t.file
        if f.fd >= 0 { flush(t) }
        f.inFlight -= 1
        f.transfers.removeAll { $0 === t }
        paused.removeAll { $0 === t }
        f.markWritten(t)
        guard f.state == .downloading else { return }
        let status = t.stream?.responseStatus ?? 0

        if t.failure == nil, outcome == .completed, (300..<400).contains(status) {
            guard let next = t.stream?.redirectURL, t.hops < 10 else {
                fail(f, HubError(.protocolViolation, "\(f.job.label): redirect without Location, or more than 10 redirects"))
                return
            }
            do { try RedirectPolicy.check(next, from: t.url, what: f.job.label) } catch { fail(f, error); return }
            f.pending.insert(PendingRange(range: ByteRange(t.cursor, t.range.end), attempts: t.attempts, url: next, hops: t.hops + 1), at: 0)
            return
        }
        if t.failure == nil, outcome == .completed, t.cursor == t.range.end {
            // The URL that delivered bytes is the file's URL from now on (unless it was since found stale).
            if f.resolvedURL == nil && t.urlGeneration == f.urlGeneration { f.resolvedURL = t.url }
            advanceHasher(f)
            return
        }
        var err: HubError
        if let e = t.failure {
            err = e
        } else {
            switch outcome {
            case .completed:
                err = HubError(.network, "\(f.job.label): body ended early at byte \(t.cursor) of \(t.range) from \(Redact.url(t.url))")
            case .timedOut(let why):
                err = HubError(.network, "\(f.job.label): stalled or timed out (\(why)) at byte \(t.cursor) from \(Redact.url(t.url))")
            case .failed(let why):
                err = HubError(.network, "\(f.job.label): \(why) at byte \(t.cursor) from \(Redact.url(t.url))")
            case .aborted:
                err = HubError(.network, "\(f.job.label): transfer aborted")
            }
        }
        if err.kind == .diskFull || err.kind == .readOnly { fatal = err; return }
        if t.staleLink && t.urlGeneration == f.urlGeneration {
            // Every request still holding the old link is now stale; the next one resolves again.
            f.resolvedURL = nil
            f.urlGeneration += 1
        }
        let progressed = t.cursor > t.startCursor
        let attempts = progressed ? 1 : t.attempts + 1
        let remaining = ByteRange(t.cursor, t.range.end)
        guard let delay = options.retry.delay(afterAttempt: attempts, error: err) else {
            if t.staleLink {
                // The last message said "resolving again"; the final one says that did not help.
                err = HubError(.http, "\(f.job.label): the CDN refused the download link (HTTP \(t.stream?.responseStatus ?? 0)) on every one of \(attempts) attempts, although each resolved a fresh link from the endpoint; the link may be revoked or this host blocked", retryable: true)
            }
            fail(f, err)
            return
        }
        onEvent(.retrying(label: f.job.label, message: err.message, delay: delay))
        logger.warning("\(err.message); retrying in \(String(format: "%.1f", delay)) s")
        if f.rangeUnsupported {
            f.pending = [PendingRange(range: ByteRange(0, f.size), attempts: attempts, notBefore: Self.now() + delay)]
        } else if !remaining.isEmpty {
            f.pending.insert(PendingRange(range: remaining, attempts: attempts, notBefore: Self.now() + delay), at: 0)
        }
        advanceHasher(f)
    }

    func advanceHasher(_ f: FileTask) {
        f.hasher?.advance(to: f.written.contiguousPrefix)
    }

    /// Periodic: move in-flight bytes into the written set (so hashing keeps up), journal them, report.
    func noteProgress(now: Double) {
        let journalDue = now - lastJournal >= options.journalInterval
        for f in files where f.state == .downloading {
            for t in f.transfers {
                // On a slow link a gather buffer can take seconds to fill; write it out at least every
                // journal interval so the prefix (journal, hashing, a pull-through reader) keeps moving.
                if journalDue && t.buffered > 0 && f.fd >= 0 { flush(t) }
                f.markWritten(t)
            }
            advanceHasher(f)
            if journalDue { f.flushJournal() }
        }
        if journalDue { lastJournal = now }
        if now - lastProgress >= 0.1 {
            lastProgress = now
            onEvent(.progress(received: report.bytesReceived, total: totalToReceive))
        }
    }

    func post(_ f: FileTask, _ r: Result<(sha256: String, gitBlobID: String?), HubError>) {
        inboxLock.withLock { inbox.append((f, r)) }
        driver?.wakeup()
    }

    func drainInbox() {
        let items = inboxLock.withLock { () -> [(FileTask, Result<(sha256: String, gitBlobID: String?), HubError>)] in
            let i = inbox
            inbox.removeAll()
            return i
        }
        for (f, r) in items where f.state == .downloading || f.state == .hashing {
            switch r {
            case .failure(let e): fail(f, e)
            case .success(let d): hashed(f, d)
            }
        }
    }

    func hashed(_ f: FileTask, _ d: (sha256: String, gitBlobID: String?)) {
        let e = f.entry
        let ok = e.isLFS ? d.sha256 == e.lfs!.sha256 : d.gitBlobID == e.blobID
        if !ok && f.leftoverBytes > 0 {
            // Bytes kept from an earlier run took part: they, not this run's source, may be at fault.
            let leftover = f.leftoverBytes
            onEvent(.corrupted(label: f.job.label, source: "partial file left by an earlier run", attempt: 0))
            logger.warning("\(f.job.label): does not match its \(e.isLFS ? "SHA-256" : "git blob id"); \(ByteSize.format(leftover)) of it were left on disk by an earlier run (a local leftover, not blamed on the server); fetching the whole file again")
            do { try f.restartFromScratch() } catch let err as HubError { fail(f, err) } catch {}
            return
        }
        if !ok {
            f.corruptions += 1
            let source = Origin(url: f.resolvedURL ?? f.job.url)?.host ?? "?"
            onEvent(.corrupted(label: f.job.label, source: source, attempt: f.corruptions))
            logger.error("\(f.job.label): content from \(source) does not match its \(e.isLFS ? "SHA-256" : "git blob id"); discarding it")
            guard f.corruptions <= options.corruptionRetries else {
                fail(f, HubError(.verification, "\(f.job.label): corrupted on transfer from \(source): digest mismatch \(f.corruptions) times; nothing was published", retryable: false))
                return
            }
            do { try f.restartFromScratch() } catch let err as HubError { fail(f, err) } catch {}
            return
        }
        f.flushJournal()
        f.closeFiles()
        do {
            var verified = e
            verified.sha256 = d.sha256
            try f.target.adoptVerified(verified, from: f.partialPath)
            f.journal?.remove()
            f.state = .done
            report.fetched.append(FetchedFile(entry: verified, sha256: d.sha256))
            onEvent(.fileVerified(label: f.job.label, sha256: d.sha256))
        } catch let err as HubError {
            fail(f, err)
            if err.kind == .diskFull || err.kind == .readOnly { fatal = err }
        } catch {
            fail(f, HubError(.store, "\(f.job.label): \(error)"))
        }
    }

    func fail(_ f: FileTask, _ e: HubError) {
        guard f.state != .failed && f.state != .done else { return }
        f.state = .failed
        for t in f.transfers { if let s = t.stream { driver.remove(s) } }
        f.transfers.removeAll()
        f.pending.removeAll()
        f.flushJournal()
        f.hasher?.cancel()
        f.closeFiles()
        report.failures.append((f.job.label, e))
        onEvent(.fileFailed(label: f.job.label, error: e))
        logger.error("\(e.message)")
    }

    func abortAll() {
        for f in files {
            for t in f.transfers {
                if let s = t.stream { driver.remove(s) }
                if f.fd >= 0 { flush(t) }
                f.markWritten(t)
            }
            f.transfers.removeAll()
            f.inFlight = 0
        }
    }
}

/// A request range waiting to be sent.
struct PendingRange {
    var range: ByteRange
    var attempts: Int = 0
    var notBefore: Double = 0
    /// A specific URL (redirect target) for this request.
    var url: String? = nil
    var hops: Int = 0
}

/// One request in flight.
final class Transfer: StreamingDelegate {
    let file: FileTask
    let range: ByteRange
    let url: String
    let attempts: Int
    let hops: Int
    let startCursor: Int64
    /// Bytes received up to here (some may still be in `buffer`).
    var cursor: Int64
    /// Bytes written to the partial file up to here.
    var fileCursor: Int64
    /// Bytes up to here are already in `file.written`.
    var markedTo: Int64
    /// Received bytes not yet written: curl hands over 16 KiB at a time, the disk wants large writes.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512 << 10, alignment: 4096)
    var buffered = 0
    var failure: HubError?
    var urlGeneration = 0
    /// The CDN refused the link this request used.
    var staleLink = false
    var stream: StreamingTransfer?
    unowned(unsafe) var engine: TransferEngine!

    init(file: FileTask, range: ByteRange, url: String, attempts: Int, hops: Int) {
        self.file = file
        self.range = range
        self.url = url
        self.attempts = attempts
        self.hops = hops
        cursor = range.start
        fileCursor = range.start
        startCursor = range.start
        markedTo = range.start
    }

    deinit { buffer.deallocate() }

    func transferDidReceiveHeaders(_ t: StreamingTransfer, status: Int, headers: HTTPHeaders) -> Bool {
        if let e = engine.validateHeaders(self, status: status, headers: headers) {
            failure = e
            return false
        }
        return true
    }

    func transferDidReceive(_ t: StreamingTransfer, _ bytes: UnsafeRawBufferPointer) -> BodyDisposition {
        engine.receive(self, bytes)
    }
}

/// One file being fetched.
final class FileTask {
    enum State { case downloading, hashing, done, failed }
    let job: FileJob
    let target: any SyncTarget
    unowned(unsafe) let engine: TransferEngine
    var entry: ManifestEntry { job.entry }
    var size: Int64 { job.entry.size }
    let partialPath: String
    var fd: Int32 = -1
    var journal: ResumeJournal?
    var hasher: FrontierHasher?
    var written = IntervalSet()
    var pending: [PendingRange] = []
    var transfers: [Transfer] = []
    var inFlight = 0
    var resolvedURL: String?
    /// Bumped when the resolved URL is found stale (expired CDN link).
    var urlGeneration = 0
    var rangeUnsupported = false
    var corruptions = 0
    /// Bytes of the partial file that an earlier run wrote (zero once the file starts over).
    var leftoverBytes: Int64 = 0
    var state = State.downloading

    init(job: FileJob, target: any SyncTarget, engine: TransferEngine) {
        self.job = job
        self.target = target
        self.engine = engine
        partialPath = TransferEngine.partialPath(in: target, etag: job.entry.etag)
    }

    var chunkSize: Int64 {
        engine.options.chunkSize ?? ChunkPlanner.defaultChunkSize(fileSize: size, connections: engine.options.connections)
    }

    /// Opens or creates the partial file and its journal, and plans what is still missing.
    func prepare() throws {
        let j = ResumeJournal(path: target.partialDirectory + "/" + entry.etag + ".journal", etag: entry.etag, size: size)
        let resumable = FS.fileSize(partialPath) == size
        try j.open(fresh: !resumable)
        journal = j
        written = resumable ? j.recorded : IntervalSet()
        leftoverBytes = written.totalBytes
        fd = open(partialPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw FS.error("create partial file", partialPath) }
        if !resumable {
            if ftruncate(fd, 0) != 0 { throw FS.error("truncate", partialPath) }
            if size > 0 {
                let rc = posix_fallocate(fd, 0, off_t(size))
                if rc == ENOSPC { throw FS.error("preallocate \(ByteSize.format(size)) for", partialPath, errno: rc) }
                if rc != 0 && ftruncate(fd, off_t(size)) != 0 { throw FS.error("size", partialPath) }
            }
        }
        pending = ChunkPlanner(chunkSize: chunkSize).plan(size: size, completed: written).map { PendingRange(range: $0) }
    }

    func startHasher() {
        let label = job.label
        let weakEngine = engine
        do {
            nonisolated(unsafe) let me = self
            let onEvent = engine.onEvent
            hasher = try FrontierHasher(path: partialPath, size: size, gitBlob: !entry.isLFS, label: label, durable: engine.options.durable,
                                        onProgress: { onEvent(.prefixWritten(label: label, bytes: $0)) }) { result in
                weakEngine.post(me, result)
            }
            hasher?.advance(to: written.contiguousPrefix)
        } catch let e as HubError {
            engine.fail(self, e)
        } catch {}
    }

    /// Moves bytes a transfer has written into the written set.
    func markWritten(_ t: Transfer) {
        guard t.fileCursor > t.markedTo else { return }
        written.insert(ByteRange(t.markedTo, t.fileCursor))
        t.markedTo = t.fileCursor
    }

    func flushJournal() {
        guard let j = journal else { return }
        let before = j.recorded.totalBytes
        do {
            try j.append(written.ranges)
        } catch let e as HubError {
            engine.logger.warning("\(job.label): cannot write resume journal: \(e.message)")
        } catch {}
        let after = j.recorded.totalBytes
        if after != before { engine.onEvent(.journaled(label: job.label, bytes: after)) }
    }

    /// After a digest mismatch: forget every byte and fetch the file again from its endpoint URL.
    func restartFromScratch() throws {
        hasher?.cancel()
        written = IntervalSet()
        leftoverBytes = 0
        try journal?.open(fresh: true)
        resolvedURL = nil
        urlGeneration += 1
        pending = ChunkPlanner(chunkSize: chunkSize).plan(size: size).map { PendingRange(range: $0) }
        startHasher()
    }

    func closeFiles() {
        if fd >= 0 { close(fd); fd = -1 }
        journal?.close()
    }
}

/// ETag header handling as the official client does it: strip `W/` and quotes.
public enum ETag {
    public static func normalize(_ value: String?) -> String? {
        guard var v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if v.hasPrefix("W/") { v.removeFirst(2) }
        return v.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// True for a git sha1 or sha256 in hex: the only ETags that name content.
    public static func isContentHash(_ v: String) -> Bool { HexDigits.isContentHash(v) }
}

/// `Content-Range: bytes a-b/total`.
public struct ContentRange: Equatable, Sendable {
    public var start: Int64
    public var end: Int64
    public var total: Int64?

    public static func parse(_ value: String?) -> ContentRange? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), v.hasPrefix("bytes ") else { return nil }
        func number(_ t: Substring) -> Int64? {
            guard !t.isEmpty, t.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            return Int64(t)
        }
        let rest = v.dropFirst(6)
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let se = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard se.count == 2, let s = number(se[0]), let e = number(se[1]), s <= e else { return nil }
        let total: Int64?
        if parts[1] == "*" { total = nil } else {
            guard let t = number(parts[1]) else { return nil }
            total = t
        }
        return ContentRange(start: s, end: e, total: total)
    }
}
