public import HubCore
public import HubHTTP

/// Identifies one request of one file's transfer.
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
    public let raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public var description: String { "#\(raw)" }
}

/// How a request ended, as the engine saw it.
public enum RequestEnd: Sendable, Equatable {
    /// The transport finished (completely, or with a fault).
    case finished(TransportOutcome)
    /// A 3xx answer completed; its absolute `Location`, if it had one.
    case redirected(to: String?)
    /// The engine stopped the request because writing its bytes failed.
    case localError(HubError)
}

/// The decisions of one file's transfer, as a value: which range to ask which source for next,
/// whether an answer's headers may be written, what a finished request means (follow a redirect,
/// resolve a stale CDN link again, retry after a backoff, fall back to another source, give up), and
/// what a digest means (publish, blame a source and start over, refetch one chunk). It never touches a
/// socket or a disk: every input returns the actions for the engine to carry out, so tests drive it
/// through every path with no I/O.
public struct FileTransfer: Sendable {
    public struct Config: Sendable {
        /// Names the file in messages, e.g. `acme/tiny:model.bin`.
        public var label: String
        public var entry: ManifestEntry
        /// Where the bytes may come from, in order of preference.
        public var sources: [any ContentSource]
        /// Requests are planned on this grid from offset 0.
        public var chunkSize: Int64
        public var retry: RetryPolicy = .standard
        /// How many times a file whose digest did not match is fetched again.
        public var corruptionRetries: Int = 2
        /// How often written ranges go to the journal.
        public var journalInterval: Double = 0.5
        /// Bound on the bytes held in memory between receiving and storing; nil: none (every byte
        /// goes to the staged content as it arrives).
        public var window: Window? = nil
        /// Set when this mirror and its peers split the upstream fetches (`--advertise`): a chunk no
        /// peer holds is fetched from the upstream only by its rendezvous owner.
        public var fleet: Fleet? = nil

        public init(label: String, entry: ManifestEntry, sources: [any ContentSource], chunkSize: Int64) {
            self.label = label
            self.entry = entry
            self.sources = sources
            self.chunkSize = chunkSize
        }
    }

    public enum Phase: Sendable, Equatable { case downloading, done, failed }

    /// The file's window: received bytes wait in memory until they are hashed and stored, at offsets
    /// below `storedTo + bytes`. A request is started only when every byte it asks for lies below
    /// `storedTo + bytes + ahead`; what it receives past the window waits in its connection (the engine
    /// pauses it) instead of growing memory, and flows as soon as the hasher and the writer move on.
    public struct Window: Sendable, Equatable {
        /// Bytes past the stored prefix the file may hold.
        public var bytes: Int64
        /// The most one request asks for (a longer pending range is asked for piece by piece).
        public var requestSize: Int64
        /// How far past the window a request may reach when it starts.
        public var ahead: Int64

        public init(bytes: Int64, requestSize: Int64, ahead: Int64 = 0) {
            self.bytes = bytes
            self.requestSize = max(1, min(requestSize, bytes))
            self.ahead = max(0, ahead)
        }
    }

    /// A request the engine is to send.
    public struct Request: Sendable, Equatable {
        public var id: RequestID
        public var source: Int
        public var url: String
        public var range: ByteRange
        /// False for a whole-file request, sent without a `Range` header.
        public var ranged: Bool
    }

    /// What the engine does in answer to an input, in order.
    public enum Action: Sendable, Equatable {
        /// Stop a request in flight; its bytes so far are already reported.
        case cancel(RequestID)
        /// The contiguous written prefix now ends here: hash up to it.
        case hash(upTo: Int64)
        /// Record these written ranges durably.
        case journal(IntervalSet)
        /// Forget every byte: a fresh journal, hashing from byte 0.
        case restart
        /// Forget the bytes of this range (rewrite the journal), and hash again from its start.
        case discard(ByteRange)
        /// Some bytes were discarded after the file's digest failed: rewrite the journal and hash the
        /// file again from byte 0 once they are written anew.
        case rehash
        /// The digest matched: move the content into the store.
        case publish(sha256: String)
        case fail(HubError)
        case retrying(message: String, delay: Double)
        /// Content that did not verify, blamed on `source`.
        case corrupted(source: String, attempt: Int)
        /// A source failed for this file; later requests go to the others.
        case strike(source: Int, reason: String)
    }

    struct Pending: Equatable {
        var range: ByteRange
        var attempts = 0
        var notBefore = 0.0
        /// A redirect target for this range, valid only for `source`.
        var url: String? = nil
        var hops = 0
        var source: Int? = nil
        /// Sources not to ask for this range while others are usable (they sent it wrong).
        var avoid: Set<Int> = []
    }

    struct Flight: Equatable {
        var source: Int
        var url: String
        var range: ByteRange
        var written: Int64
        var attempts: Int
        var hops: Int
        var generation: Int
        var failure: HubError? = nil
        var status = 0
        /// The CDN refused the link this request used.
        var staleLink = false
    }

    public let config: Config
    public private(set) var phase = Phase.downloading
    /// Bytes written to the partial file, by source.
    public private(set) var written: SourcedRanges
    var pending: [Pending] = []
    var flights: [RequestID: Flight] = [:]
    var nextID = 0
    /// Per source: the URL that delivered bytes (after redirects), reused for later ranges.
    var resolved: [Int: String] = [:]
    /// Per source: bumped when its resolved URL was found stale, so late answers do not restore it.
    var generation: [Int: Int] = [:]
    /// Whether a URL is on its source's own origin, by source: asked for every answer, and the
    /// URLs of a file's requests are a handful (parsing one costs more than the rest of the check).
    var ownOrigin: [Int: [String: Bool]] = [:]
    /// The server ignores Range: one whole-file stream from byte 0.
    public private(set) var rangeUnsupported = false
    public private(set) var corruptions = 0
    /// Sources this file no longer asks.
    public private(set) var struck: Set<Int> = []
    var chunkFailures: [Int64: Int] = [:]
    /// After a digest failed on bytes from several sources: the one whose bytes were replaced to see
    /// whether the digest then matches, and those already replaced without that helping.
    var suspect: Int? = nil
    var cleared: Set<Int> = []
    var eliminations = 0
    var hashRequested: Int64 = -1
    var journaled: IntervalSet
    var lastJournal: Double
    /// With a window: the bytes below this are hashed and on disk (reported by the engine).
    public private(set) var storedTo: Int64 = 0
    /// Ranges that were on disk when the current hasher started (an earlier run's, or kept across a rehash).
    var onDiskAtStart: IntervalSet

    var size: Int64 { config.entry.size }
    var label: String { config.label }

    /// - Parameters:
    ///   - resumed: ranges an earlier run wrote (from its journal); they count as of no known source.
    public init(_ config: Config, resumed: IntervalSet = IntervalSet(), now: Double = 0) {
        self.config = config
        written = SourcedRanges(leftover: resumed)
        journaled = resumed
        onDiskAtStart = resumed
        lastJournal = now
        pending = ChunkPlanner(chunkSize: config.chunkSize).plan(size: config.entry.size, completed: resumed).map { Pending(range: $0) }
    }

    /// Requests in flight.
    public var inFlightCount: Int { flights.count }
    /// Bytes an earlier run left that are still part of the file.
    public var leftoverBytes: Int64 { written.runs.filter { $0.source == nil }.reduce(0) { $0 + $1.range.count } }
    /// When the next delayed request becomes due (nil: none waiting).
    public var nextWake: Double? { phase == .downloading ? pending.map(\.notBefore).min() : nil }
    /// The source a request in flight goes to.
    public func source(of id: RequestID) -> Int? { flights[id]?.source }

    /// The first actions: hash what an earlier run left.
    public mutating func start() -> [Action] { hashActions() }

    // MARK: - Requests

    /// The next request to send, if one is due and a source may take it (`canUse`: the engine's
    /// connection budget for that source).
    public mutating func nextRequest(now: Double, canUse: (Int) -> Bool) -> Request? {
        guard phase == .downloading else { return nil }
        if rangeUnsupported && !flights.isEmpty { return nil }
        var view: SourcesView? = nil
        // Ranges waiting inside the window, counted once a range past it is considered.
        var waitingInside: Int? = nil
        for i in pending.indices where pending[i].notBefore <= now {
            let p = pending[i]
            if let w = config.window, !rangeUnsupported {
                let windowEnd = storedTo + w.bytes
                let end = min(p.range.end, p.range.start + w.requestSize)
                if end > windowEnd + w.ahead { continue }   // too far ahead: it waits for the hasher to store what is before it
                if end > windowEnd {
                    // Past the window only while nothing else inside it waits (for a retry, a source, a connection).
                    if waitingInside == nil { waitingInside = pending.count { $0.range.start < windowEnd } }
                    if waitingInside! > (p.range.start < windowEnd ? 1 : 0) { continue }
                }
            }
            let source: Int
            if let pinned = p.source, !struck.contains(pinned) {
                guard canUse(pinned) else { continue }
                source = pinned
            } else {
                if view == nil { view = sourcesView() }
                guard case .use(let s) = chooseSource(for: p, in: view!, canUse: canUse) else { continue }
                source = s
            }
            let url = (p.source == source ? p.url : nil) ?? resolved[source] ?? config.sources[source].url(for: config.entry)
            var range = p.range
            if let w = config.window, !rangeUnsupported, range.count > w.requestSize {
                // Only what fits the window is asked for; the rest stays pending.
                range = ByteRange(range.start, range.start + w.requestSize)
                pending[i].range = ByteRange(range.end, p.range.end)
            } else {
                pending.remove(at: i)
            }
            if rangeUnsupported {
                // The server only sends whole files: stream it all from 0 again.
                pending.removeAll()
                range = ByteRange(0, size)
            }
            let id = RequestID(nextID)
            nextID += 1
            flights[id] = Flight(source: source, url: url, range: range, written: range.start, attempts: p.attempts,
                                 hops: p.source == source ? p.hops : 0, generation: generation[source, default: 0])
            return Request(id: id, source: source, url: url, range: range, ranged: !(range.start == 0 && range.end == size))
        }
        return nil
    }

    enum Choice: Equatable {
        case use(Int)
        /// A source holds the range but is busy, or a peer is getting it: ask again later.
        case wait
        /// No usable source holds the range or will.
        case noSource
    }

    /// Where a range goes: a peer that holds it (the best-ranked free one; one that sent it wrong only
    /// when no other holds it), else nowhere yet while a peer worth waiting for is getting it, else the
    /// fallback (the upstream). The upstream never takes a range because the peers are busy.
    func chooseSource(for p: Pending, in view: SourcesView, canUse: (Int) -> Bool) -> Choice {
        func free(_ s: Int) -> Bool {
            // Until a source's final URL is known (redirects), one request to it at a time.
            canUse(s) && !(resolved[s] == nil && flights.values.contains { $0.source == s })
        }
        let (primaries, fallbacks, availability) = (view.primaries, view.fallbacks, view.availability)
        let holders = primaries.filter { availability[$0]!.holds(p.range) }
        if !holders.isEmpty {
            let trusted = holders.filter { !p.avoid.contains($0) }
            let ranked = rank(trusted.isEmpty ? holders : trusted, chunk: p.range.start / config.chunkSize)
            return ranked.first(where: free).map(Choice.use) ?? .wait
        }
        if primaries.contains(where: { worthWaiting($0, availability, range: p.range, avoid: p.avoid) }) { return .wait }
        if fallbacks.isEmpty {
            // No upstream behind the peers: wait while one of them may still get the range.
            return primaries.contains { availability[$0]!.live } ? .wait : .noSource
        }
        let open = fallbacks.filter(free)
        return (open.first { !p.avoid.contains($0) } ?? open.first).map(Choice.use) ?? .wait
    }

    /// The usable sources and what each peer holds of the file, asked once per scheduling pass.
    struct SourcesView {
        var primaries: [Int]
        var fallbacks: [Int]
        var availability: [Int: SourceAvailability]
    }

    func sourcesView() -> SourcesView {
        let usable = config.sources.indices.filter { !struck.contains($0) }
        let primaries = usable.filter { !config.sources[$0].isFallback }
        return SourcesView(primaries: primaries, fallbacks: usable.filter { config.sources[$0].isFallback },
                           availability: Dictionary(uniqueKeysWithValues: primaries.map { ($0, config.sources[$0].availability(of: config.entry)) }))
    }

    /// Holders in the order their rendezvous weight for this chunk gives (spreads one file's chunks
    /// over the peers that hold it); sources that are not mirrors keep their order, after them.
    func rank(_ sources: [Int], chunk: Int64) -> [Int] {
        let digest = config.entry.etag
        let members = sources.filter { config.sources[$0].fleetMember != nil }
        let weighted = members.sorted {
            Rendezvous.score(digest: digest, chunk: chunk, member: config.sources[$0].fleetMember!)
                > Rendezvous.score(digest: digest, chunk: chunk, member: config.sources[$1].fleetMember!)
        }
        return weighted + sources.filter { config.sources[$0].fleetMember == nil }
    }

    /// True when source `s` does not hold `range` yet but should soon, so that the upstream is not asked.
    /// Without a fleet: a peer that is itself downloading the content (it fetches every chunk), or may
    /// be about to (just after the start). In a
    /// fleet: only the chunk's rendezvous owner among the live members, and never when that is this
    /// mirror (then it is this mirror's to fetch from the upstream).
    func worthWaiting(_ s: Int, _ availability: [Int: SourceAvailability], range: ByteRange, avoid: Set<Int>) -> Bool {
        guard let a = availability[s], a.live, !avoid.contains(s) else { return false }
        guard let fleet = config.fleet else { return a.fetching || a.expected }
        let live = availability.filter { $0.value.live && config.sources[$0.key].fleetMember != nil }.keys.sorted()
        let names = [fleet.me] + live.map { config.sources[$0].fleetMember! }
        guard let owner = Rendezvous.owner(digest: config.entry.etag, chunk: range.start / Rendezvous.gridSize, members: names), owner > 0 else { return false }
        return live[owner - 1] == s
    }

    /// Checks an answer's headers before any body byte is written: nil to accept; otherwise the
    /// error the request then ends with.
    public mutating func headersReceived(_ id: RequestID, status: Int, headers: HTTPHeaders) -> HubError? {
        guard var f = flights[id] else { return HubError(.network, "\(label): transfer aborted") }
        let error = check(&f, status: status, headers: headers)
        f.failure = error
        f.status = status
        flights[id] = f
        return error
    }

    mutating func check(_ f: inout Flight, status: Int, headers: HTTPHeaders) -> HubError? {
        let source = config.sources[f.source]
        let own = ownOrigin[f.source]?[f.url] ?? {
            let own = source.isOwnOrigin(f.url)
            ownOrigin[f.source, default: [:]][f.url] = own
            return own
        }()
        let entry = config.entry
        if (300..<400).contains(status) {
            if let ls = headers["X-Linked-Size"].flatMap(Int64.init), ls != size { return changed("size \(ls) instead of \(size)") }
            if let e = ETag.normalize(headers["X-Linked-Etag"]), ETag.isContentHash(e), e != entry.etag {
                return changed("ETag \(e) instead of \(entry.etag)")
            }
            return nil
        }
        if status >= 400 {
            if !own && [401, 403, 404, 410].contains(status) {
                // A signed CDN URL expired or was revoked: resolve again from the source.
                f.staleLink = true
                return HubError(.http, "\(label): CDN answered \(status) (expired link?); resolving again", retryable: true, retryAfter: 0)
            }
            if own { return source.error(status: status, headers: headers, url: f.url, label: label) }
            return RetryPolicy.error(forStatus: status, headers: headers, url: f.url, what: label) ?? HubError(.http, "\(label): HTTP \(status)")
        }
        let tag = ETag.normalize(headers["X-Linked-Etag"]) ?? (own ? ETag.normalize(headers["ETag"]) : nil)
        if let e = tag, ETag.isContentHash(e), e != entry.etag { return changed("ETag \(e) instead of \(entry.etag)") }
        if status == 206 {
            guard let cr = ContentRange.parse(headers["Content-Range"]) else {
                return HubError(.protocolViolation, "\(label): 206 without a valid Content-Range from \(Redact.url(f.url))")
            }
            if let total = cr.total, total != size { return changed("size \(total) instead of \(size)") }
            guard cr.start == f.written, cr.end == f.range.end - 1 else {
                return HubError(.protocolViolation, "\(label): asked for bytes \(f.written)-\(f.range.end - 1), got \(cr.start)-\(cr.end) from \(Redact.url(f.url))")
            }
            return nil
        }
        // 200: the whole file. Fine for a whole-file request; for a ranged one the server ignored Range.
        if let cl = headers["Content-Length"].flatMap(Int64.init), cl != size { return changed("size \(cl) instead of \(size)") }
        if f.written != 0 || f.range.end != size {
            rangeUnsupported = true
            return HubError(.http, "\(label): \(Origin(url: f.url)?.host ?? "server") ignored Range (answered 200); fetching the whole file in one stream", retryable: true, retryAfter: 0)
        }
        return nil
    }

    func changed(_ what: String) -> HubError {
        HubError(.upstreamChanged, "\(label) changed upstream since it was listed: \(what)", retryable: false)
    }

    /// The request's bytes up to `end` are written at their offsets.
    public mutating func bytesWritten(_ id: RequestID, upTo end: Int64) -> [Action] {
        guard var f = flights[id], end > f.written else { return [] }
        written.insert(ByteRange(f.written, end), source: f.source)
        f.written = end
        flights[id] = f
        return hashActions()
    }

    /// A range inside the window is due and waits to be requested: requests waiting past the window
    /// should give it their connections (`yielded`).
    public func windowRangeDue(now: Double) -> Bool {
        guard phase == .downloading, let w = config.window, !rangeUnsupported else { return false }
        return pending.contains { $0.notBefore <= now && $0.range.start < storedTo + w.bytes }
    }

    /// The engine stopped a request that waited past the window, to give its connection to a range
    /// inside it: what it had not received is pending again, with no attempt counted.
    public mutating func yielded(_ id: RequestID) {
        guard phase == .downloading, let f = flights.removeValue(forKey: id), f.written < f.range.end else { return }
        let rest = ByteRange(f.written, f.range.end)
        let at = pending.firstIndex { $0.range.start > rest.start } ?? pending.endIndex
        pending.insert(Pending(range: rest, attempts: f.attempts), at: at)
    }

    /// The hasher stored (hashed and wrote) the bytes below `end`: the window moves on.
    public mutating func stored(upTo end: Int64) { storedTo = max(storedTo, end) }

    /// Every written byte is on disk (the engine wrote its windows out when the run stopped).
    public mutating func storedEverything() { storedTo = size }

    /// A hasher starts from byte 0 (at the start, after a restart or a rehash): the ranges already on
    /// disk, which it reads back instead of taking them from the window; the window starts at 0.
    public mutating func hasherStarted() -> IntervalSet {
        onDiskAtStart = journalRanges
        storedTo = 0
        return onDiskAtStart
    }

    /// The written ranges that are on disk, which is what a journal may record: without a window all
    /// of them; with one, the stored prefix and what was on disk when the hasher started.
    public var journalRanges: IntervalSet {
        guard config.window != nil, storedTo < size else { return written.ranges }
        var out = IntervalSet()
        for run in written.runs {
            if run.range.start < storedTo { out.insert(ByteRange(run.range.start, min(run.range.end, storedTo))) }
            for d in onDiskAtStart.ranges where d.start < run.range.end && run.range.start < d.end {
                out.insert(ByteRange(max(d.start, run.range.start), min(d.end, run.range.end)))
            }
        }
        return out
    }

    /// The written ranges held only in the window (received, not yet stored).
    public var windowRanges: IntervalSet {
        var out = IntervalSet()
        guard config.window != nil else { return out }
        let disk = journalRanges
        for run in written.runs where run.range.end > storedTo {
            var at = max(run.range.start, storedTo)
            for d in disk.ranges where d.end > at && d.start < run.range.end {
                if d.start > at { out.insert(ByteRange(at, d.start)) }
                at = max(at, d.end)
            }
            if at < run.range.end { out.insert(ByteRange(at, run.range.end)) }
        }
        return out
    }

    /// A request ended; `random` in [0, 1) jitters the backoff.
    public mutating func requestFinished(_ id: RequestID, _ end: RequestEnd, now: Double, random: Double = Double.random(in: 0..<1)) -> [Action] {
        guard let f = flights.removeValue(forKey: id), phase == .downloading else { return [] }
        let s = f.source
        if f.failure == nil, case .redirected(let next) = end {
            guard let next, f.hops < 10 else {
                return fail(HubError(.protocolViolation, "\(label): redirect without Location, or more than 10 redirects"))
            }
            do { try RedirectPolicy.check(next, from: f.url, what: label) } catch { return fail(error) }
            pending.insert(Pending(range: ByteRange(f.written, f.range.end), attempts: f.attempts, url: next, hops: f.hops + 1, source: s), at: 0)
            return []
        }
        if f.failure == nil, end == .finished(.completed), f.written == f.range.end {
            // The URL that delivered bytes is the source's URL from now on (unless it was since found stale).
            if resolved[s] == nil && f.generation == generation[s, default: 0] { resolved[s] = f.url }
            return hashActions()
        }
        var err = f.failure ?? transportError(f, end)
        if case .localError(let e) = end { return fail(e) }
        if f.staleLink && f.generation == generation[s, default: 0] {
            // Every request still holding the old link is now stale; the next one resolves again.
            resolved[s] = nil
            generation[s, default: 0] += 1
        }
        let progressed = f.written > f.range.start
        let attempts = progressed ? 1 : f.attempts + 1
        let remaining = ByteRange(f.written, f.range.end)
        guard let delay = config.retry.delay(afterAttempt: attempts, error: err, random: random) else {
            if f.staleLink {
                // The last message said "resolving again"; the final one says that did not help.
                err = HubError(.http, "\(label): the CDN refused the download link (HTTP \(f.status)) on every one of \(attempts) attempts, although each resolved a fresh link from the endpoint; the link may be revoked or this host blocked", retryable: true)
            }
            if config.sources.indices.contains(where: { $0 != s && !struck.contains($0) }) {
                // Another source may still have it: drop this one for the file, keep the range.
                struck.insert(s)
                if rangeUnsupported { pending = [Pending(range: ByteRange(0, size))] } else if !remaining.isEmpty {
                    pending.insert(Pending(range: remaining), at: 0)
                }
                return [.strike(source: s, reason: err.message)] + hashActions()
            }
            return fail(err)
        }
        var actions: [Action] = [.retrying(message: err.message, delay: delay)]
        if rangeUnsupported {
            pending = [Pending(range: ByteRange(0, size), attempts: attempts, notBefore: now + delay)]
        } else if !remaining.isEmpty {
            pending.insert(Pending(range: remaining, attempts: attempts, notBefore: now + delay), at: 0)
        }
        actions += hashActions()
        return actions
    }

    func transportError(_ f: Flight, _ end: RequestEnd) -> HubError {
        let at = "at byte \(f.written) from \(Redact.url(f.url))"
        switch end {
        case .finished(.completed), .redirected:
            return HubError(.network, "\(label): body ended early at byte \(f.written) of \(f.range) from \(Redact.url(f.url))")
        case .finished(.timedOut(let why)):
            return HubError(.network, "\(label): stalled or timed out (\(why)) \(at)")
        case .finished(.failed(let why)):
            return HubError(.network, "\(label): \(why) \(at)")
        case .finished(.aborted):
            return HubError(.network, "\(label): transfer aborted")
        case .localError(let e):
            return e
        }
    }

    // MARK: - Digests

    /// The hasher reached the end: the file's digests.
    public mutating func fileHashed(sha256: String, gitBlobID: String?) -> [Action] {
        guard phase == .downloading else { return [] }
        let e = config.entry
        let ok = e.isLFS ? sha256 == e.lfs!.sha256 : gitBlobID == e.blobID
        if ok {
            phase = .done
            guard let s = suspect else { return [.publish(sha256: sha256)] }
            // Replacing that source's bytes made the digest match: they were the wrong ones.
            struck.insert(s)
            return [.strike(source: s, reason: "\(label): its bytes did not match the file's \(e.isLFS ? "SHA-256" : "git blob id"); with them fetched elsewhere it matched"),
                    .publish(sha256: sha256)]
        }
        let who = written.sources(in: ByteRange(0, size))
        if who.contains(nil) {
            // Bytes kept from an earlier run took part: they, not this run's sources, may be at fault.
            return [.corrupted(source: Self.leftoverSource, attempt: 0)] + restart()
        }
        let blamed = Set(who.compactMap { $0 })
        if blamed.count > 1, let s = nextSuspect(blamed) {
            return [.corrupted(source: sourceNames(who), attempt: corruptions + 1)] + eliminate(s)
        }
        corruptions += 1
        let names = sourceNames(who)
        var head: [Action] = [.corrupted(source: names, attempt: corruptions)]
        guard corruptions <= config.corruptionRetries else {
            return head + fail(HubError(.verification, "\(label): corrupted on transfer from \(names): digest mismatch \(corruptions) times; nothing was published", retryable: false))
        }
        // With another source left, the ones that sent these bytes are not asked for this file again.
        if config.sources.indices.contains(where: { !struck.contains($0) && !blamed.contains($0) }) {
            for s in blamed.sorted() {
                struck.insert(s)
                head.append(.strike(source: s, reason: "\(label): its bytes did not match the file's \(config.entry.isLFS ? "SHA-256" : "git blob id")"))
            }
        }
        return head + restart()
    }

    /// Which of several sources that sent a file's bytes to suspect after its digest failed: one not
    /// suspected before, peers before the fallback (the upstream is the chain of trust), the one that
    /// sent the fewest bytes first (cheapest to fetch again). Nil once each was tried.
    mutating func nextSuspect(_ blamed: Set<Int>) -> Int? {
        if let s = suspect { cleared.insert(s) }
        suspect = nil
        guard eliminations < config.sources.count else { return nil }
        let bytes = Dictionary(grouping: written.runs.filter { $0.source != nil }, by: { $0.source! }).mapValues { $0.reduce(0) { $0 + $1.range.count } }
        return blamed.subtracting(cleared).sorted {
            let fa = config.sources[$0].isFallback, fb = config.sources[$1].isFallback
            if fa != fb { return !fa }
            return (bytes[$0] ?? 0, $0) < (bytes[$1] ?? 0, $1)
        }.first
    }

    /// Forgets the bytes source `s` sent, fetches them from the others, and hashes the file again.
    mutating func eliminate(_ s: Int) -> [Action] {
        suspect = s
        eliminations += 1
        let ids = flights.keys.sorted { $0.raw < $1.raw }
        flights.removeAll()
        for run in written.runs where run.source == s { written.remove(run.range) }
        pending = ChunkPlanner(chunkSize: config.chunkSize).plan(size: size, completed: written.ranges).map { Pending(range: $0, avoid: [s]) }
        journaled = IntervalSet()
        hashRequested = -1
        return ids.map { .cancel($0) } + [.rehash]
    }

    /// The hasher found that the bytes of `range` do not match that chunk's expected SHA-256.
    public mutating func chunkFailed(_ range: ByteRange) -> [Action] {
        guard phase == .downloading else { return [] }
        let who = written.sources(in: range)
        written.remove(range)
        journaled = IntervalSet()
        // Hashing goes on from the chunk's start once it is written again.
        hashRequested = min(hashRequested, range.start)
        chunkFailures[range.start, default: 0] += 1
        var actions: [Action] = [.discard(range)]
        let blamed = Set(who.compactMap { $0 })
        actions.append(.corrupted(source: who.contains(nil) && blamed.isEmpty ? Self.leftoverSource : sourceNames(who), attempt: chunkFailures[range.start]!))
        if chunkFailures[range.start]! > config.corruptionRetries + (who.contains(nil) ? 1 : 0) {
            return actions + fail(HubError(.verification, "\(label): bytes \(range.start)-\(range.end - 1) failed their chunk SHA-256 \(chunkFailures[range.start]!) times (last from \(sourceNames(who))); nothing was published", retryable: false))
        }
        pending.insert(Pending(range: range, avoid: blamed), at: 0)
        return actions
    }

    static let leftoverSource = "partial file left by an earlier run"

    func sourceNames(_ who: Set<Int?>) -> String {
        let names = who.compactMap { $0 }.sorted().map { s in
            Origin(url: resolved[s] ?? config.sources[s].url(for: config.entry))?.host ?? config.sources[s].id
        }
        return names.isEmpty ? "?" : Array(Set(names)).sorted().joined(separator: ", ")
    }

    // MARK: - Clock and endings

    /// Periodic: the written ranges are journaled when the interval has passed and they changed.
    public mutating func tick(now: Double) -> [Action] {
        if phase == .downloading, flights.isEmpty, !pending.isEmpty, case let view = sourcesView(),
           let p = pending.first(where: { chooseSource(for: $0, in: view, canUse: { _ in true }) == .noSource }) {
            return fail(HubError(.entryNotFound, "\(label): no source holds bytes \(p.range.start)-\(p.range.end - 1) (\(config.sources.map(\.id).joined(separator: ", ")))", retryable: true))
        }
        guard now - lastJournal >= config.journalInterval else { return [] }
        lastJournal = now
        return journalActions()
    }

    /// A failure outside the transfer (a write to the store failed, the hasher could not read).
    public mutating func localFailure(_ e: HubError) -> [Action] { fail(e) }

    /// The run stops (interrupted, or another file hit a full disk): cancel, keep what is written.
    public mutating func stop() -> [Action] {
        let ids = flights.keys.sorted { $0.raw < $1.raw }
        flights.removeAll()
        return ids.map { .cancel($0) } + journalActions()
    }

    /// The source is unusable for the rest of the run.
    public mutating func sourceUnusable(_ s: Int) {
        struck.insert(s)
    }

    mutating func journalActions() -> [Action] {
        let r = journalRanges
        guard r != journaled else { return [] }
        journaled = r
        return [.journal(r)]
    }

    mutating func hashActions() -> [Action] {
        let p = written.contiguousPrefix
        guard p > hashRequested else { return [] }
        hashRequested = p
        return [.hash(upTo: p)]
    }

    mutating func restart() -> [Action] {
        suspect = nil
        let ids = flights.keys.sorted { $0.raw < $1.raw }
        flights.removeAll()
        written = SourcedRanges()
        journaled = IntervalSet()
        hashRequested = -1
        resolved.removeAll()
        for s in config.sources.indices { generation[s, default: 0] += 1 }
        pending = ChunkPlanner(chunkSize: config.chunkSize).plan(size: size).map { Pending(range: $0) }
        return ids.map { .cancel($0) } + [.restart]
    }

    mutating func fail(_ e: HubError) -> [Action] {
        guard phase == .downloading else { return [] }
        phase = .failed
        let ids = flights.keys.sorted { $0.raw < $1.raw }
        flights.removeAll()
        pending.removeAll()
        return ids.map { .cancel($0) } + journalActions() + [.fail(e)]
    }
}
