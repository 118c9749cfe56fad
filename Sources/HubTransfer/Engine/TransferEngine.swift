import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HubCore
import HubHTTP
public import HubStore
public import Logging

/// Carries out what each file's `FileTransfer` state machine decides: one thread drives a libcurl
/// multi handle with parallel ranged requests across files and sources, writes each chunk at its
/// offset in content staged by the sink, journals progress for crash-safe resume, hashes the contiguous
/// prefix on another core, and hands a file to the sink only once its digest matches.
public final class TransferEngine: @unchecked Sendable {
    let options: TransferOptions
    let logger: Logger
    let onEvent: @Sendable (TransferEvent) -> Void

    // Engine-thread state.
    var driver: MultiDriver!
    var files: [FileRun] = []
    var report = TransferReport()
    var shared = EngineShared(maxRate: nil, now: 0)
    var fatal: HubError?
    var totalToReceive: Int64 = 0
    var lastFlush = 0.0
    /// Requests that waited past their windows and gave their connections back (for the debug log).
    var yields = 0
    var lastProgress = 0.0
    /// Requests in flight per source id.
    var inFlightBySource: [String: Int] = [:]
    var strikesBySource: [String: Int] = [:]
    var sink: (any ContentSink)!

    // Cross-thread inbox (hashers post here).
    let inboxLock = NSLock()
    var inbox: [(FileRun, Int, HashOutcome)] = []
    var loggedWriteMode = false
    /// The paired hashing threads made in this run (for the debug log of what they paired).
    var hashGroups: [HashGroup] = []
    /// Received bytes go to a file's state machine (and so to its hasher) in pieces of this size.
    static let reportUnit: Int64 = 1 << 20

    public init(options: TransferOptions, logger: Logger, onEvent: @escaping @Sendable (TransferEvent) -> Void = { _ in }) {
        self.options = options.tuned(ProcessInfo.processInfo.environment["HUBMIRROR_TUNING"])
        self.logger = logger
        self.onEvent = onEvent
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Fetches every job into `sink`. Blocks the calling thread until all files are verified,
    /// failed, or the run is stopped. Never throws: failures are in the report.
    public func run(jobs: [FileJob], target sink: any ContentSink) -> TransferReport {
        self.sink = sink
        driver = MultiDriver(maxTotalConnections: options.connections)
        shared = EngineShared(maxRate: options.maxRate, now: Self.now())
        for job in jobs {
            if fatal != nil { report.failures.append((job.label, fatal!)); continue }
            let sources = job.sources
            let staged: any StagedContent
            do {
                staged = try sink.stage(job.entry)
            } catch {
                report.failures.append((job.label, error))
                onEvent(.fileFailed(label: job.label, error: error))
                logger.error("\(error.message)")
                if error.kind == .diskFull || error.kind == .readOnly { fatal = error }
                continue
            }
            var config = FileTransfer.Config(label: job.label, entry: job.entry, sources: sources,
                                             chunkSize: options.chunkSize ?? ChunkPlanner.defaultChunkSize(fileSize: job.entry.size, connections: options.connections))
            config.retry = options.retry
            config.corruptionRetries = options.corruptionRetries
            config.journalInterval = options.journalInterval
            config.window = window(for: job)
            config.fleet = options.fleet
            let f = FileRun(job: job, machine: FileTransfer(config, resumed: staged.resumed, now: Self.now()), staged: staged)
            if !loggedWriteMode {
                loggedWriteMode = true
                if !options.directWrites {
                    logger.info("writing through the page cache (buffered writes asked for)")
                } else if staged.directAlignment != nil {
                    logger.info("writing with O_DIRECT (the page cache is bypassed)")
                } else {
                    logger.notice("writing through the page cache: \(staged.directRefusal ?? "no direct writes")")
                }
            }
            files.append(f)
            let resumed = staged.resumed.totalBytes
            totalToReceive += job.entry.size - resumed
            report.resumedBytes += resumed
            onEvent(.fileStarted(label: job.label, size: job.entry.size, resumedBytes: resumed))
            startHasher(f)
            apply(f, f.machine.start())
        }
        loop()
        // Whatever is left unfinished keeps its partial data and journal for the next run.
        for f in files { for r in f.requests.values { r.attribute() } }
        for f in files where f.isActive {
            stop(f)
            if let fatal { report.failures.append((f.job.label, fatal)) } else if report.interrupted {
                report.failures.append((f.job.label, HubError(.interrupted, "\(f.job.label): interrupted; partial data kept for resume")))
            }
        }
        report.bytesReceived = shared.bytesReceived
        report.bytesBySource = shared.bytesBySource
        if !hashGroups.isEmpty {
            let (paired, alone) = hashGroups.reduce((Int64(0), Int64(0))) { sum, g in
                g.queue.sync { (sum.0 + g.pairedBytes, sum.1 + g.aloneBytes) }
            }
            logger.debug("hashed \(ByteSize.format(paired)) two files at once, \(ByteSize.format(alone)) alone")
        }
        if yields > 0 { logger.debug("\(yields) requests waiting past their windows gave their connections back") }
        driver = nil
        self.sink = nil
        return report
    }

    func loop() {
        while true {
            drainInbox()
            if fatal != nil || options.shouldStop() {
                if fatal == nil { report.interrupted = true }
                for f in files where f.isActive { stop(f) }
                return
            }
            schedule(now: Self.now())
            let busy = files.contains { $0.isActive }
            if !busy && driver.activeCount == 0 { return }
            for (s, outcome) in driver.perform() {
                if let r = s.context as? RequestRun { finished(r, outcome) }
            }
            noteProgress(now: Self.now())
            shared.unpauseIfAllowed()
            driver.poll(timeoutMs: pollTimeout(now: Self.now()))
        }
    }

    func pollTimeout(now: Double) -> Int {
        var t = 100.0
        for f in files where f.isActive {
            if let w = f.machine.nextWake, w > now { t = min(t, (w - now) * 1000) }
        }
        if let w = shared.pauseWaitMs { t = min(t, w) }
        return max(1, Int(t))
    }

    // MARK: - Scheduling

    /// Starts requests until every connection (of this run, and of a shared budget) is busy.
    func schedule(now: Double) {
        while driver.activeCount < options.connections {
            if let b = options.budget, !b.tryAcquire() { return }
            guard let (f, request) = nextRequest(now: now) else {
                options.budget?.release()
                break
            }
            start(f, request)
        }
        yieldToWindows(now: now)
    }

    /// A range inside a file's window is due but found no connection, while requests of the file wait
    /// past the window (which moves only once that range arrives): the one furthest ahead gives its
    /// connection back, and the range starts on it.
    func yieldToWindows(now: Double) {
        for f in files where f.isActive && !f.waitingForWindow.isEmpty && f.machine.windowRangeDue(now: now) {
            guard let r = f.waitingForWindow.max(by: { $0.cursor < $1.cursor }) else { continue }
            if let s = r.stream { driver.remove(s) }
            release(r)
            apply(f, f.machine.bytesWritten(r.id, upTo: r.cursor))
            f.machine.yielded(r.id)
            yields += 1
            if let request = nextRequest(f, now: now) { start(f, request) }
        }
    }

    func nextRequest(now: Double) -> (FileRun, FileTransfer.Request)? {
        var openFiles = 0, most = 0
        for f in files where f.isActive && !f.requests.isEmpty {
            openFiles += 1
            most = max(most, f.requests.count)
        }
        // Files with fewer requests in flight first (in their order on a tie; a new file only while
        // fewer than --jobs are open): requests that may reach past the window would otherwise all go
        // to the first file and leave the others (and their hashing partner) idle.
        for inFlight in 0...most where inFlight > 0 || openFiles < options.maxFiles {
            for f in files where f.isActive && f.requests.count == inFlight {
                if let request = nextRequest(f, now: now) { return (f, request) }
            }
        }
        return nil
    }

    /// The next request of `f`, on a source with a connection free.
    func nextRequest(_ f: FileRun, now: Double) -> FileTransfer.Request? {
        let sources = f.machine.config.sources
        let ids = f.sourceIDs
        return f.machine.nextRequest(now: now) { s in
            inFlightBySource[ids[s], default: 0] < sources[s].maxConnections && report.unusableSources[ids[s]] == nil
        }
    }

    func start(_ f: FileRun, _ request: FileTransfer.Request) {
        let r = RequestRun(id: request.id, file: f, source: request.source, range: request.range, shared: shared, window: f.hasher!.window)
        let source = f.machine.config.sources[request.source]
        let headers: [(String, String)] = request.ranged ? [("Range", request.range.httpRange)] : []
        let stream = StreamingTransfer(url: request.url, headers: headers, credentials: source.credentials,
                                       connectTimeout: options.connectTimeout, stallTimeout: options.stallTimeout,
                                       receiveBuffer: options.receiveBuffer, delegate: r)
        stream.context = r
        r.stream = stream
        f.requests[request.id] = r
        inFlightBySource[f.sourceIDs[request.source], default: 0] += 1
        driver.add(stream)
    }

    /// Takes a request out of the run (its slot and its source's are free again).
    func release(_ r: RequestRun) {
        r.attribute()
        r.file.requests.removeValue(forKey: r.id)
        shared.paused.removeAll { $0 === r }
        r.file.waitingForWindow.removeAll { $0 === r }
        inFlightBySource[r.file.sourceIDs[r.source], default: 1] -= 1
        options.budget?.release()
    }

    // MARK: - Callbacks (engine thread)

    /// A request ended: its bytes go to the machine, then what it means.
    func finished(_ r: RequestRun, _ outcome: TransportOutcome) {
        let f = r.file
        release(r)
        apply(f, f.machine.bytesWritten(r.id, upTo: r.cursor))
        let end: RequestEnd
        if let e = r.overrun {
            end = .localError(e)
        } else if outcome == .completed, let status = r.stream?.responseStatus, (300..<400).contains(status) {
            end = .redirected(to: r.stream?.redirectURL)
        } else {
            end = .finished(outcome)
        }
        apply(f, f.machine.requestFinished(r.id, end, now: Self.now()))
    }

    /// Periodic: received bytes reported, journals written, progress told.
    func noteProgress(now: Double) {
        let flushDue = now - lastFlush >= options.journalInterval
        for f in files where f.isActive {
            // In pieces (each report may wake the hasher), and on a slow link at least every journal
            // interval, so that the prefix (hashing, the journal, a pull-through reader) keeps moving.
            for r in f.requests.values where r.unreported >= Self.reportUnit || (r.unreported > 0 && (flushDue || r.waitingForWindow)) {
                r.reportedTo = r.cursor
                apply(f, f.machine.bytesWritten(r.id, upTo: r.cursor))
            }
            if flushDue { f.hasher?.flush() }
            apply(f, f.machine.tick(now: now))
        }
        if flushDue { lastFlush = now }
        if now - lastProgress >= 0.1 {
            lastProgress = now
            onEvent(.progress(received: shared.bytesReceived, total: totalToReceive))
        }
    }

    /// The window of a file: `windowBytes`, or two chunks when its chunk digests are checked (a chunk
    /// is stored only once it verified), never more than the file needs. Requests are sized so that the
    /// one at the hash frontier always fits once the stored prefix has caught up with the hashed one.
    func window(for job: FileJob) -> FileTransfer.Window {
        var bytes = options.windowBytes
        var held = min(options.writeSize, bytes / 2)
        if let c = job.entry.chunks, c.fits(size: job.entry.size) {
            bytes = max(bytes, 2 * c.chunkSize)
            held = c.chunkSize
        }
        let capacity = Int64(FileWindow.capacity(size: job.entry.size, bytes: bytes))
        if job.entry.size <= capacity { return FileTransfer.Window(bytes: capacity, requestSize: max(1, job.entry.size)) }
        let request = min(options.requestSize ?? options.windowBytes / 4, capacity - held - 4096)
        // Not with a connection budget shared with other runs: a request waiting past one run's window
        // would hold a connection another run's window may need.
        let ahead = options.budget == nil ? options.windowAhead ?? capacity : 0
        return FileTransfer.Window(bytes: capacity, requestSize: max(4096, request), ahead: ahead)
    }

    func startHasher(_ f: FileRun) {
        let label = f.job.label
        let onEvent = self.onEvent
        // Results are posted to the engine thread's inbox; the file is touched only there.
        nonisolated(unsafe) let file = f
        f.hasherGeneration += 1
        let generation = f.hasherGeneration
        let onDisk = f.machine.hasherStarted()
        f.storedTo = 0
        let window = FileWindow(capacity: Int(f.machine.config.window?.bytes ?? Int64(FileWindow.capacity(size: f.job.entry.size, bytes: options.windowBytes))))
        f.hasher = FrontierHasher(content: f.staged, window: window, onDisk: onDisk, gitBlob: !f.job.entry.isLFS, label: label,
                                  group: hashGroup(for: f), durable: options.durable, direct: options.directWrites, writeSize: options.writeSize,
                                  chunkSize: options.chunkDigestSize, expected: f.expectedChunks,
                                  onProgress: { onEvent(.prefixWritten(label: label, bytes: $0)) }) { [weak self] outcome in
            self?.post(file, generation, outcome)
        }
    }

    /// The hashing thread for `f`: one another active file hashes on with room for a second, so
    /// that the two are hashed side by side, or a new one. Files with a git blob id or chunk digests
    /// to compute cannot be paired and get one of their own.
    func hashGroup(for f: FileRun) -> HashGroup {
        let chunkSize = f.expectedChunks?.chunkSize ?? options.chunkDigestSize
        guard options.pairedHashing, FrontierHasher.canPair(gitBlob: !f.job.entry.isLFS, chunkSize: chunkSize) else {
            return HashGroup(capacity: 1, label: f.job.label)
        }
        let inUse = files.compactMap { $0 !== f && $0.isActive ? $0.hasher?.group : nil }
        if let g = inUse.first(where: { g in g.capacity > 1 && inUse.count(where: { $0 === g }) < g.capacity }) { return g }
        let g = HashGroup(capacity: 2, label: f.job.label, hold: .init(seconds: options.pairHoldSeconds, bytes: min(options.pairHoldBytes, options.windowBytes / 2)))
        hashGroups.append(g)
        return g
    }

    func post(_ f: FileRun, _ generation: Int, _ outcome: HashOutcome) {
        inboxLock.withLock { inbox.append((f, generation, outcome)) }
        driver?.wakeup()
    }

    func drainInbox() {
        let items = inboxLock.withLock { () -> [(FileRun, Int, HashOutcome)] in
            let i = inbox
            inbox.removeAll()
            return i
        }
        for (f, generation, outcome) in items where f.isActive && generation == f.hasherGeneration {
            switch outcome {
            case .stored(let end):
                f.storedTo = end
                f.machine.stored(upTo: end)
                resumeWaiting(f)
            case .failed(let e):
                if e.kind == .diskFull || e.kind == .readOnly { fatal = e }
                apply(f, f.machine.localFailure(e))
            case .chunkFailed(let range):
                f.hasher?.rewound(to: range.start)
                apply(f, f.machine.chunkFailed(range))
            case .finished(let sha256, let gitBlobID, let chunks):
                f.chunks = chunks
                apply(f, f.machine.fileHashed(sha256: sha256, gitBlobID: gitBlobID))
            }
        }
    }

    // MARK: - Actions

    func apply(_ f: FileRun, _ actions: [FileTransfer.Action]) {
        for a in actions { apply(f, a) }
    }

    func apply(_ f: FileRun, _ action: FileTransfer.Action) {
        let label = f.job.label
        switch action {
        case .cancel(let id):
            if let r = f.requests[id] {
                if let s = r.stream { driver.remove(s) }
                release(r)
            }
        case .hash(let end):
            f.hasher?.advance(to: end)
        case .journal(let ranges):
            do {
                try f.staged.journal(ranges)
                onEvent(.journaled(label: label, bytes: ranges.totalBytes))
            } catch {
                logger.warning("\(label): cannot write resume journal: \(error.message)")
            }
        case .discard:
            do { try f.staged.rewriteJournal(f.machine.journalRanges) } catch {
                apply(f, f.machine.localFailure(error))
            }
        case .rehash:
            hashAgain(f) { () throws(HubError) in try f.staged.rewriteJournal(f.machine.written.ranges) }
        case .restart:
            hashAgain(f) { () throws(HubError) in try f.staged.restart() }
        case .publish(let sha256):
            publish(f, sha256: sha256)
        case .fail(let e):
            f.finished = true
            f.hasher?.cancel()
            f.staged.close()
            report.failures.append((label, e))
            onEvent(.fileFailed(label: label, error: e))
            logger.error("\(e.message)")
        case .retrying(let message, let delay):
            onEvent(.retrying(label: label, message: message, delay: delay))
            logger.warning("\(message); retrying in \(String(format: "%.1f", delay)) s")
        case .corrupted(let source, let attempt):
            onEvent(.corrupted(label: label, source: source, attempt: attempt))
            let what = f.job.entry.isLFS ? "SHA-256" : "git blob id"
            if attempt == 0 {
                logger.warning("\(label): does not match its \(what); \(ByteSize.format(f.machine.leftoverBytes)) of it were left on disk by an earlier run (a local leftover, not blamed on the server); fetching it again")
            } else {
                logger.error("\(label): content from \(source) does not match its \(what); discarding it")
            }
        case .strike(let s, let reason):
            let id = f.sourceIDs[s]
            report.strikes.append(SourceStrike(source: id, label: label, reason: reason))
            logger.warning("\(label): not asking \(id) again for it: \(reason)")
            strikesBySource[id, default: 0] += 1
            if strikesBySource[id]! >= options.strikesBeforeUnusable, report.unusableSources[id] == nil {
                report.unusableSources[id] = reason
                logger.warning("\(id) failed \(strikesBySource[id]!) times; not asked again in this run")
                for other in files where other.isActive {
                    for (i, sid) in other.sourceIDs.enumerated() where sid == id { other.machine.sourceUnusable(i) }
                }
            }
        }
    }

    /// Stops the file's hasher, prepares the staged content (`prepare`), and hashes from byte 0 again.
    func hashAgain(_ f: FileRun, after prepare: () throws(HubError) -> Void) {
        f.hasher?.cancel()
        do {
            try prepare()
            startHasher(f)
            apply(f, f.machine.start())
        } catch {
            apply(f, f.machine.localFailure(error))
        }
    }

    func publish(_ f: FileRun, sha256: String) {
        f.finished = true
        var verified = f.job.entry
        verified.sha256 = sha256
        if let c = f.chunks { verified.chunks = c }
        do {
            try sink.adopt(f.staged, as: verified)
            report.fetched.append(FetchedFile(entry: verified, sha256: sha256))
            onEvent(.fileVerified(label: f.job.label, sha256: sha256))
        } catch {
            report.failures.append((f.job.label, error))
            onEvent(.fileFailed(label: f.job.label, error: error))
            logger.error("\(error.message)")
            if error.kind == .diskFull || error.kind == .readOnly { fatal = error }
        }
    }

    /// Stops a file's requests, keeping what they wrote (journaled) for the next run.
    func stop(_ f: FileRun) {
        for r in f.requests.values where r.unreported > 0 {
            r.reportedTo = r.cursor
            apply(f, f.machine.bytesWritten(r.id, upTo: r.cursor))
        }
        f.hasher?.cancel()
        storeWindow(f)
        apply(f, f.machine.stop())
        f.staged.close()
    }

    /// Resumes the requests of `f` that waited for its window to move on.
    func resumeWaiting(_ f: FileRun) {
        // Only those whose refused bytes fit now: curl copies what a request refuses aside again.
        let list = f.waitingForWindow
        f.waitingForWindow = list.filter { !$0.fits }
        for r in list where r.fits && r.waitingForWindow {
            r.waitingForWindow = false
            r.stream?.resume()
        }
    }

    /// Writes what only the window holds to the staged content (through the page cache), so that a run
    /// that stops loses none of it; if that fails, the journal keeps just the stored prefix.
    func storeWindow(_ f: FileRun) {
        guard let window = f.hasher?.window else { return }
        do throws(HubError) {
            for r in f.machine.windowRanges.ranges { try window.store(r, into: f.staged) }
            f.machine.storedEverything()
        } catch {
            logger.warning("\(f.job.label): cannot keep the bytes received last: \(error.message)")
        }
    }
}
