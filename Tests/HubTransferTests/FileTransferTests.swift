import Foundation
import HubCore
import HubHTTP
import Testing
@testable import HubTransfer

/// Drives the per-file transfer state machine through every input and action with no I/O.
@Suite struct FileTransferTests {
    typealias Action = FileTransfer.Action
    static let mib: Int64 = 1 << 20
    static let repo: RepoRef = { RepoRef(type: .model, id: try! RepoID("acme/m")) }()
    static let commit = String(repeating: "c", count: 40)
    static let lfsSHA = String(repeating: "a", count: 64)
    static let entry = ManifestEntry(path: "w.bin", size: 10 * mib, blobID: String(repeating: "b", count: 40),
                                     lfs: LFSInfo(sha256: lfsSHA, size: 10 * mib, pointerSize: 130))
    static let endpoint = "http://hub.test"
    static let resolveURL = "http://hub.test/acme/m/resolve/\(commit)/w.bin"
    static let cdnURL = "http://cdn.test/blob?sig=1"

    static func hub(_ connections: Int = .max) -> HubEndpointSource {
        HubEndpointSource(endpoint: endpoint, repo: repo, commit: commit, credentials: Credentials(token: "t", endpoint: endpoint), maxConnections: connections)
    }

    static func machine(sources: [any ContentSource] = [hub()], resumed: IntervalSet = IntervalSet(),
                        _ change: (inout FileTransfer.Config) -> Void = { _ in }) -> Driver {
        var c = FileTransfer.Config(label: "acme/m:w.bin", entry: entry, sources: sources, chunkSize: 4 * mib)
        c.retry = RetryPolicy(maxAttempts: 3, baseDelay: 1, maxDelay: 4)
        change(&c)
        return Driver(FileTransfer(c, resumed: resumed))
    }

    static func headers(_ pairs: [(String, String)]) -> HTTPHeaders {
        var h = HTTPHeaders()
        for (k, v) in pairs { h.parseLine("\(k): \(v)\r\n") }
        return h
    }

    static func partial(_ r: ByteRange, total: Int64 = entry.size) -> HTTPHeaders {
        headers([("Content-Range", "bytes \(r.start)-\(r.end - 1)/\(total)"), ("Content-Length", "\(r.count)")])
    }

    /// Sends a request through to a complete 206 answer.
    static func deliver(_ m: Driver, _ r: FileTransfer.Request, now: Double = 0) -> [Action] {
        #expect(m.headersReceived(r.id, status: 206, headers: partial(r.range)) == nil)
        var a = m.bytesWritten(r.id, upTo: r.range.end)
        a += m.requestFinished(r.id, .finished(.completed), now: now, random: 0)
        return a
    }

    /// Resolves the file's link: resolve URL -> 302 -> CDN, first chunk delivered.
    static func resolvedMachine() -> (Driver, FileTransfer.Request) {
        let m = machine()
        let r0 = m.nextRequest(now: 0) { _ in true }!
        #expect(m.headersReceived(r0.id, status: 302, headers: headers([("Location", cdnURL)])) == nil)
        #expect(m.requestFinished(r0.id, .redirected(to: cdnURL), now: 0).isEmpty)
        let r1 = m.nextRequest(now: 0) { _ in true }!
        _ = deliver(m, r1)
        return (m, r1)
    }

    // MARK: planning and redirects

    @Test func theFirstRequestAsksTheResolveURLForTheFirstChunkAndWaitsForItsFinalURL() throws {
        let m = Self.machine()
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(r.url == Self.resolveURL && r.range == ByteRange(0, 4 * Self.mib) && r.ranged && r.source == 0)
        #expect(m.nextRequest(now: 0) { _ in true } == nil, "one request until the final URL is known")
    }

    @Test func aRedirectIsFollowedForTheSameRangeThenTheFinalURLServesTheRestInParallel() throws {
        let (m, r1) = Self.resolvedMachine()
        #expect(r1.url == Self.cdnURL && r1.range == ByteRange(0, 4 * Self.mib))
        let r2 = try #require(m.nextRequest(now: 0) { _ in true })
        let r3 = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(r2.url == Self.cdnURL && r3.url == Self.cdnURL)
        #expect([r2.range, r3.range] == [ByteRange(4 * Self.mib, 8 * Self.mib), ByteRange(8 * Self.mib, 10 * Self.mib)])
        #expect(m.nextRequest(now: 0) { _ in true } == nil, "nothing left to ask")
    }

    @Test("Bad redirects fail the file at once", arguments: [
        ("file:///etc/passwd", "disallowed URL"), ("ftp://x/y", "disallowed URL"),
    ])
    func disallowedRedirectsFail(_ location: String, _ message: String) throws {
        let m = Self.machine()
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        let a = m.requestFinished(r.id, .redirected(to: location), now: 0)
        guard case .fail(let e) = a.last else { Issue.record("no failure: \(a)"); return }
        #expect(e.kind == .protocolViolation && !e.isRetryable && e.message.contains(message))
        #expect(m.phase == .failed)
    }

    @Test func aRedirectWithoutLocationOrAnEleventhHopFails() throws {
        let m = Self.machine()
        var r = try #require(m.nextRequest(now: 0) { _ in true })
        for hop in 0..<10 {
            #expect(m.requestFinished(r.id, .redirected(to: "http://hop\(hop).test/x"), now: 0).isEmpty)
            r = try #require(m.nextRequest(now: 0) { _ in true })
            #expect(r.url == "http://hop\(hop).test/x")
        }
        let a = m.requestFinished(r.id, .redirected(to: "http://hop10.test/x"), now: 0)
        #expect(a.contains { if case .fail(let e) = $0 { return e.message.contains("more than 10 redirects") } else { return false } })
        let m2 = Self.machine()
        let r2 = try #require(m2.nextRequest(now: 0) { _ in true })
        #expect(m2.requestFinished(r2.id, .redirected(to: nil), now: 0).contains { if case .fail = $0 { return true } else { return false } })
    }

    // MARK: header checks

    @Test("Answers that do not fit the listing or the request are refused before a byte is written", arguments: [
        (302, [("X-Linked-Size", "5")], HubError.Kind.upstreamChanged),
        (302, [("X-Linked-Etag", "\"\(String(repeating: "d", count: 64))\"")], .upstreamChanged),
        (206, [("ETag", String(repeating: "d", count: 64)), ("Content-Range", "bytes 0-4194303/10485760")], .upstreamChanged),
        (206, [("Content-Range", "bytes 0-4194303/99")], .upstreamChanged),
        (206, [("Content-Range", "bytes 1-4194303/10485760")], .protocolViolation),
        (206, [("Content-Range", "nonsense")], .protocolViolation),
        (206, [], .protocolViolation),
        (404, [], .entryNotFound),
        (404, [("X-Error-Code", "EntryNotFound")], .entryNotFound),
        (403, [("X-Error-Code", "GatedRepo")], .gated),
        (401, [("X-Error-Code", "RepoNotFound")], .repoNotFound),
        (401, [], .unauthorized),
        (503, [], .http),
        (429, [("Retry-After", "3")], .rateLimited),
    ])
    func headerChecks(_ status: Int, _ pairs: [(String, String)], _ kind: HubError.Kind) throws {
        let m = Self.machine()
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        let e = m.headersReceived(r.id, status: status, headers: Self.headers(pairs))
        #expect(e?.kind == kind, "\(status) \(pairs): \(String(describing: e))")
        #expect(e?.message.contains("acme/m:w.bin") == true)
    }

    @Test func anETagFromTheCDNIsNotTheContentIDButXLinkedEtagIs() throws {
        let (m, _) = Self.resolvedMachine()
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        let other = String(repeating: "d", count: 64)
        var h = Self.partial(r.range)
        h.parseLine("ETag: \"\(other)\"\r\n")
        #expect(m.headersReceived(r.id, status: 206, headers: h) == nil, "a CDN's own ETag says nothing")
        h.parseLine("X-Linked-Etag: \"\(other)\"\r\n")
        let r2 = try #require(m.nextRequest(now: 0) { _ in true })
        var h2 = Self.partial(r2.range)
        h2.parseLine("X-Linked-Etag: \"\(other)\"\r\n")
        #expect(m.headersReceived(r2.id, status: 206, headers: h2)?.kind == .upstreamChanged)
    }

    @Test func aServerThatIgnoresRangeGetsOneWholeFileStreamFromByteZero() throws {
        let (m, _) = Self.resolvedMachine()
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        let e = try #require(m.headersReceived(r.id, status: 200, headers: Self.headers([("Content-Length", "\(Self.entry.size)")])))
        #expect(e.kind == .http && e.message.contains("ignored Range") && m.rangeUnsupported)
        let a = m.requestFinished(r.id, .finished(.aborted), now: 10, random: 0)
        #expect(a.first == .retrying(message: e.message, delay: 0))
        let whole = try #require(m.nextRequest(now: 10) { _ in true })
        #expect(whole.range == ByteRange(0, Self.entry.size) && !whole.ranged)
        #expect(m.nextRequest(now: 10) { _ in true } == nil, "never a second stream")
        #expect(m.headersReceived(whole.id, status: 200, headers: Self.headers([("Content-Length", "\(Self.entry.size)")])) == nil)
    }

    @Test func aWholeFileAnswerOfTheWrongLengthMeansTheFileChanged() throws {
        let c = Self.machine { $0.chunkSize = 64 * Self.mib }
        let r = try #require(c.nextRequest(now: 0) { _ in true })
        #expect(!r.ranged)
        #expect(c.headersReceived(r.id, status: 200, headers: Self.headers([("Content-Length", "12")]))?.kind == .upstreamChanged)
    }

    // MARK: retries

    @Test func aStaleCDNLinkIsResolvedAgainAndTheFinalMessageSaysEveryAttemptWasRefused() throws {
        let (m, _) = Self.resolvedMachine()
        var r = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(r.url == Self.cdnURL)
        for attempt in 1...3 {
            let e = try #require(m.headersReceived(r.id, status: 403, headers: HTTPHeaders()))
            #expect(e.message.contains("resolving again"))
            let a = m.requestFinished(r.id, .finished(.aborted), now: 0, random: 0)
            if attempt < 3 {
                guard case .retrying = a.first else { Issue.record("\(a)"); return }
                r = try #require(m.nextRequest(now: 1) { _ in true })
                #expect(r.url == Self.resolveURL, "resolved again from the endpoint")
                #expect(m.requestFinished(r.id, .redirected(to: Self.cdnURL), now: 1).isEmpty)
                r = try #require(m.nextRequest(now: 1) { _ in true })
            } else {
                guard case .fail(let final) = a.last else { Issue.record("\(a)"); return }
                #expect(!final.message.contains("resolving again") && final.message.contains("every one of 3 attempts") && final.message.contains("403"))
            }
        }
    }

    @Test func aLateAnswerOnAStaleLinkDoesNotRestoreIt() throws {
        let (m, _) = Self.resolvedMachine()
        let stale = try #require(m.nextRequest(now: 0) { _ in true })
        let slow = try #require(m.nextRequest(now: 0) { _ in true })
        _ = m.headersReceived(stale.id, status: 403, headers: HTTPHeaders())
        _ = m.requestFinished(stale.id, .finished(.aborted), now: 0, random: 0)
        _ = Self.deliver(m, slow)
        let next = try #require(m.nextRequest(now: 5) { _ in true })
        #expect(next.url == Self.resolveURL, "the slow request's old link was not taken as the file's URL")
    }

    @Test func serverErrorsBackOffAndRetryAfterIsHonoured() throws {
        let m = Self.machine { $0.chunkSize = 64 * Self.mib }
        let r = try #require(m.nextRequest(now: 100) { _ in true })
        _ = m.headersReceived(r.id, status: 429, headers: Self.headers([("Retry-After", "7")]))
        let a = m.requestFinished(r.id, .finished(.completed), now: 100, random: 0)
        guard case .retrying(let msg, let delay) = a.first else { Issue.record("\(a)"); return }
        #expect(delay == 7 && msg.contains("429"))
        #expect(m.nextWake == 107)
        #expect(m.nextRequest(now: 106.9) { _ in true } == nil, "not before Retry-After")
        let again = try #require(m.nextRequest(now: 107) { _ in true })
        #expect(again.range == r.range)
    }

    @Test func aBrokenTransferResumesAtItsLastWrittenByteWithFreshAttempts() throws {
        let (m, _) = Self.resolvedMachine()
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(m.headersReceived(r.id, status: 206, headers: Self.partial(r.range)) == nil)
        _ = m.bytesWritten(r.id, upTo: r.range.start + 1000)
        let a = m.requestFinished(r.id, .finished(.failed("Connection reset")), now: 0, random: 0)
        guard case .retrying(let msg, _) = a.first else { Issue.record("\(a)"); return }
        #expect(msg.contains("Connection reset") && msg.contains("at byte \(r.range.start + 1000)"))
        var next: FileTransfer.Request?
        while let n = m.nextRequest(now: 60, canUse: { _ in true }) { if n.range.end == r.range.end { next = n } }
        #expect(next?.range == ByteRange(r.range.start + 1000, r.range.end))
    }

    @Test func retriesRunOutWithTheLastError() throws {
        let m = Self.machine()
        var last: [Action] = []
        for i in 0..<3 {
            let r = try #require(m.nextRequest(now: Double(i) * 10) { _ in true })
            last = m.requestFinished(r.id, .finished(.timedOut("no data")), now: Double(i) * 10, random: 0)
        }
        guard case .fail(let e) = last.last else { Issue.record("\(last)"); return }
        #expect(e.kind == .network && e.message.contains("stalled or timed out"))
        #expect(m.phase == .failed && m.nextRequest(now: 1000) { _ in true } == nil)
    }

    @Test func aLocalWriteErrorFailsTheFile() throws {
        let m = Self.machine()
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        let full = HubError(.diskFull, "no space")
        #expect(m.requestFinished(r.id, .localError(full), now: 0).last == .fail(full))
    }

    // MARK: hashing and journaling

    @Test func theHashFrontierMovesOnlyWhenTheContiguousPrefixGrows() throws {
        let (m, first) = Self.resolvedMachine()
        #expect(first.range.end == 4 * Self.mib)
        let r2 = try #require(m.nextRequest(now: 0) { _ in true })
        let r3 = try #require(m.nextRequest(now: 0) { _ in true })
        _ = m.headersReceived(r3.id, status: 206, headers: Self.partial(r3.range))
        #expect(m.bytesWritten(r3.id, upTo: r3.range.end).isEmpty, "a hole before it: no hashing yet")
        _ = m.headersReceived(r2.id, status: 206, headers: Self.partial(r2.range))
        #expect(m.bytesWritten(r2.id, upTo: r2.range.end) == [.hash(upTo: Self.entry.size)])
    }

    @Test func aMatchingDigestPublishes() {
        let m = Self.machine()
        #expect(m.fileHashed(sha256: Self.lfsSHA, gitBlobID: nil) == [.publish(sha256: Self.lfsSHA)])
        #expect(m.phase == .done)
    }

    @Test func aMismatchIsBlamedOnTheSourceFetchedAgainThenFailsAfterTheRetries() throws {
        let (m, _) = Self.resolvedMachine()
        for _ in 0..<2 { _ = m.nextRequest(now: 0) { _ in true } }
        let bad = String(repeating: "e", count: 64)
        for attempt in 1...3 {
            var all = m.written.ranges
            all.insert(ByteRange(0, Self.entry.size))
            let a = m.fileHashed(sha256: bad, gitBlobID: nil)
            #expect(a.first == .corrupted(source: attempt == 1 ? "cdn.test" : "hub.test", attempt: attempt) || a.first == .corrupted(source: "cdn.test", attempt: attempt))
            if attempt <= 2 {
                #expect(a.contains(.restart))
                #expect(m.written.totalBytes == 0 && m.corruptions == attempt)
                let r = try #require(m.nextRequest(now: 0) { _ in true })
                #expect(r.url == Self.resolveURL && r.range.start == 0, "starts over from the endpoint")
                #expect(m.requestFinished(r.id, .redirected(to: Self.cdnURL), now: 0).isEmpty)
                let r1 = try #require(m.nextRequest(now: 0) { _ in true })
                _ = Self.deliver(m, r1)
            } else {
                guard case .fail(let e) = a.last else { Issue.record("\(a)"); return }
                #expect(e.kind == .verification && e.message.contains("3 times"))
            }
        }
    }

    @Test func aMismatchOverBytesLeftByAnEarlierRunIsNotBlamedOnTheServer() {
        let m = Self.machine(resumed: IntervalSet([ByteRange(0, 3 * Self.mib)]))
        #expect(m.leftoverBytes == 3 * Self.mib)
        #expect(m.start() == [.hash(upTo: 3 * Self.mib)])
        let a = m.fileHashed(sha256: String(repeating: "e", count: 64), gitBlobID: nil)
        #expect(a == [.corrupted(source: "partial file left by an earlier run", attempt: 0), .restart])
        #expect(m.corruptions == 0 && m.leftoverBytes == 0)
    }

    @Test func aResumedFileAsksOnlyForWhatIsMissing() throws {
        let m = Self.machine(resumed: IntervalSet([ByteRange(0, 4 * Self.mib), ByteRange(8 * Self.mib, 10 * Self.mib)]))
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(r.range == ByteRange(4 * Self.mib, 8 * Self.mib))
    }

    @Test func theJournalIsWrittenEachIntervalWhenSomethingChanged() throws {
        let (m, first) = Self.resolvedMachine()
        #expect(m.tick(now: 0.1).isEmpty, "interval not passed")
        #expect(m.tick(now: 0.6) == [.journal(IntervalSet([first.range]))])
        #expect(m.tick(now: 1.2).isEmpty, "nothing new")
    }

    @Test func stoppingCancelsEveryRequestAndJournals() throws {
        let (m, first) = Self.resolvedMachine()
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(m.stop() == [.cancel(r.id), .journal(IntervalSet([first.range]))])
        #expect(m.inFlightCount == 0)
    }

    // MARK: several sources

    /// A source whose every answer is a permanent 404 (a peer without the blob).
    struct Peer: ContentSource {
        var id: String
        var maxConnections = 2
        var credentials: Credentials { Credentials(token: nil, endpoint: base) }
        var base: String { "http://\(id).test" }
        func url(for entry: ManifestEntry) -> String { "\(base)/blobs/\(entry.etag)" }
        func isOwnOrigin(_ url: String) -> Bool { url.hasPrefix(base) }
        func error(status: Int, headers: HTTPHeaders, url: String, label: String) -> HubError {
            HubError(.entryNotFound, "\(label): \(id) does not hold it (\(status))")
        }
    }

    @Test func aSourceThatCannotServeIsStruckAndItsRangesGoToTheNext() throws {
        let m = Self.machine(sources: [Peer(id: "peer-a"), Self.hub()])
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(r.source == 0 && r.url.hasPrefix("http://peer-a.test/blobs/"))
        _ = m.headersReceived(r.id, status: 404, headers: HTTPHeaders())
        let a = m.requestFinished(r.id, .finished(.completed), now: 0, random: 0)
        guard case .strike(0, let why) = a.first else { Issue.record("\(a)"); return }
        #expect(why.contains("peer-a"))
        let next = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(next.source == 1 && next.range == r.range && next.url == Self.resolveURL)
        #expect(m.struck == [0])
    }

    @Test func perSourceConnectionLimitsAreTheEnginesToGrant() throws {
        let m = Self.machine(sources: [Peer(id: "peer-a"), Peer(id: "peer-b")])
        let r = try #require(m.nextRequest(now: 0) { $0 == 1 })
        #expect(r.source == 1)
        #expect(m.nextRequest(now: 0) { _ in false } == nil)
    }

    @Test func aChunkThatFailsItsDigestIsFetchedAgainAloneFromAnotherSource() throws {
        let m = Self.machine(sources: [Peer(id: "peer-a"), Peer(id: "peer-b")])
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        _ = Self.deliver(m, r)
        let chunk = ByteRange(0, 4 * Self.mib)
        let a = m.chunkFailed(chunk)
        #expect(a == [.discard(chunk), .corrupted(source: "peer-a.test", attempt: 1)])
        #expect(m.written.totalBytes == 0)
        var again: FileTransfer.Request?
        while let n = m.nextRequest(now: 0, canUse: { _ in true }) { if n.range == chunk { again = n } }
        #expect(again?.source == 1, "the chunk goes to the other peer")
    }

    static func fallbackHub() -> HubEndpointSource {
        HubEndpointSource(endpoint: endpoint, repo: repo, commit: commit, credentials: Credentials(token: "t", endpoint: endpoint), isFallback: true)
    }

    @Test func aFallbackSourceTakesNoRangeWhileAPeerIsUsableEvenIfThePeerIsBusy() throws {
        let m = Self.machine(sources: [Peer(id: "peer-a"), Self.fallbackHub()])
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(r.source == 0)
        #expect(m.nextRequest(now: 0) { $0 == 1 } == nil, "the peer has no free connection; upstream is not asked")
    }

    @Test func bytesThatFailTheFileDigestStrikeTheirPeerAndTheFileComesFromTheFallback() throws {
        let m = Self.machine(sources: [Peer(id: "peer-a"), Self.fallbackHub()])
        while let r = m.nextRequest(now: 0, canUse: { _ in true }) { _ = Self.deliver(m, r) }
        let a = m.fileHashed(sha256: String(repeating: "e", count: 64), gitBlobID: nil)
        #expect(a.first == .corrupted(source: "peer-a.test", attempt: 1))
        #expect(a.contains { if case .strike(0, let why) = $0 { return why.contains("SHA-256") } else { return false } })
        #expect(a.contains(.restart))
        let next = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(next.source == 1 && next.url == Self.resolveURL, "the upstream, once the peer is struck")
    }

    @Test func aChunkRefetchedAfterTheWholeFileWasWrittenIsHashedAgain() throws {
        let m = Self.machine(sources: [Peer(id: "peer-a"), Peer(id: "peer-b")])
        var hashed: [Action] = []
        while let r = m.nextRequest(now: 0, canUse: { _ in true }) { hashed += Self.deliver(m, r) }
        #expect(hashed.last == .hash(upTo: Self.entry.size), "everything written and hashed up to the end")
        let chunk = ByteRange(4 * Self.mib, 8 * Self.mib)
        _ = m.chunkFailed(chunk)
        let again = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(again.range == chunk)
        #expect(Self.deliver(m, again).contains(.hash(upTo: Self.entry.size)), "the frontier is asked for again")
    }

    @Test func aChunkThatKeepsFailingFailsTheFile() throws {
        let m = Self.machine(sources: [Peer(id: "peer-a")])
        let chunk = ByteRange(0, 4 * Self.mib)
        var last: [Action] = []
        for _ in 0..<3 {
            let r = try #require(m.nextRequest(now: 0) { _ in true })
            _ = Self.deliver(m, r)
            last = m.chunkFailed(chunk)
        }
        guard case .fail(let e) = last.last else { Issue.record("\(last)"); return }
        #expect(e.kind == .verification && e.message.contains("chunk SHA-256"))
    }

    @Test func aLocalFailureCancelsJournalsAndFails() throws {
        let (m, first) = Self.resolvedMachine()
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        let e = HubError(.readOnly, "cannot write")
        #expect(m.localFailure(e) == [.cancel(r.id), .journal(IntervalSet([first.range])), .fail(e)])
        #expect(m.phase == .failed && m.localFailure(e).isEmpty, "fails once")
    }

    @Test func aSourceUnusableForTheRunIsNotAskedAgain() throws {
        let m = Self.machine(sources: [Peer(id: "peer-a"), Peer(id: "peer-b")])
        m.sourceUnusable(0)
        let r = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(r.source == 1 && m.struck == [0])
    }

    @Test func sourcedRangesRememberWhoWroteWhat() {
        var w = SourcedRanges(leftover: IntervalSet([ByteRange(0, 10)]))
        w.insert(ByteRange(10, 20), source: 1)
        w.insert(ByteRange(20, 30), source: 1)
        w.insert(ByteRange(5, 12), source: 2)
        #expect(w.runs.map(\.range) == [ByteRange(0, 5), ByteRange(5, 12), ByteRange(12, 30)])
        #expect(w.sources(in: ByteRange(0, 6)) == [nil, 2])
        #expect(w.sources(in: ByteRange(12, 13)) == [1])
        w.remove(ByteRange(4, 14))
        #expect(w.ranges == IntervalSet([ByteRange(0, 4), ByteRange(14, 30)]))
        #expect(w.totalBytes == 20 && w.contiguousPrefix == 4)
    }
}

/// Holds a machine so that swift-testing's macros, which cannot call mutating members, can drive it.
final class Driver {
    var m: FileTransfer
    init(_ m: FileTransfer) { self.m = m }
    var phase: FileTransfer.Phase { m.phase }
    var written: SourcedRanges { m.written }
    var rangeUnsupported: Bool { m.rangeUnsupported }
    var corruptions: Int { m.corruptions }
    var struck: Set<Int> { m.struck }
    var leftoverBytes: Int64 { m.leftoverBytes }
    var nextWake: Double? { m.nextWake }
    var inFlightCount: Int { m.inFlightCount }
    func start() -> [FileTransfer.Action] { m.start() }
    func nextRequest(now: Double, canUse: (Int) -> Bool) -> FileTransfer.Request? { m.nextRequest(now: now, canUse: canUse) }
    func headersReceived(_ id: RequestID, status: Int, headers: HTTPHeaders) -> HubError? { m.headersReceived(id, status: status, headers: headers) }
    func bytesWritten(_ id: RequestID, upTo end: Int64) -> [FileTransfer.Action] { m.bytesWritten(id, upTo: end) }
    func requestFinished(_ id: RequestID, _ end: RequestEnd, now: Double, random: Double = 0) -> [FileTransfer.Action] {
        m.requestFinished(id, end, now: now, random: random)
    }
    func fileHashed(sha256: String, gitBlobID: String?) -> [FileTransfer.Action] { m.fileHashed(sha256: sha256, gitBlobID: gitBlobID) }
    func chunkFailed(_ r: ByteRange) -> [FileTransfer.Action] { m.chunkFailed(r) }
    func tick(now: Double) -> [FileTransfer.Action] { m.tick(now: now) }
    func stop() -> [FileTransfer.Action] { m.stop() }
    func localFailure(_ e: HubError) -> [FileTransfer.Action] { m.localFailure(e) }
    func sourceUnusable(_ s: Int) { m.sourceUnusable(s) }
}

/// The window: received bytes wait in memory until stored, so requests are started only as far as it reaches.
@Suite struct FileTransferWindowTests {
    typealias T = FileTransferTests
    static let mib = T.mib

    static func windowed(bytes: Int64 = 4 * mib, request: Int64 = mib, ahead: Int64 = 0, resumed: IntervalSet = IntervalSet()) -> (Driver, FileTransfer.Request) {
        let m = T.machine(resumed: resumed) { $0.window = FileTransfer.Window(bytes: bytes, requestSize: request, ahead: ahead) }
        let r0 = m.nextRequest(now: 0) { _ in true }!
        #expect(m.headersReceived(r0.id, status: 302, headers: T.headers([("Location", T.cdnURL)])) == nil)
        _ = m.requestFinished(r0.id, .redirected(to: T.cdnURL), now: 0)
        let r1 = m.nextRequest(now: 0) { _ in true }!
        return (m, r1)
    }

    @Test func requestsAreCutToTheRequestSizeAndStartedOnlyAsFarAsTheWindowReaches() throws {
        let (m, first) = Self.windowed()
        #expect(first.range == ByteRange(0, Self.mib), "a 4 MiB chunk asked for 1 MiB at a time")
        _ = T.deliver(m, first)
        var ends: [Int64] = []
        while let r = m.nextRequest(now: 0, canUse: { _ in true }) { ends.append(r.range.end) }
        #expect(ends == [2, 3, 4].map { $0 * Self.mib }, "nothing past stored + window (0 + 4 MiB)")
        m.m.stored(upTo: Self.mib)
        let next = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(next.range == ByteRange(4 * Self.mib, 5 * Self.mib))
        #expect(m.nextRequest(now: 0) { _ in true } == nil, "the window is full again")
    }

    @Test func requestsMayReachPastTheWindowByAheadAndNoFurther() throws {
        let (m, first) = Self.windowed(ahead: 2 * Self.mib)
        _ = T.deliver(m, first)
        var ends: [Int64] = []
        while let r = m.nextRequest(now: 0, canUse: { _ in true }) { ends.append(r.range.end) }
        #expect(ends == [2, 3, 4, 5, 6].map { $0 * Self.mib }, "up to stored + window + ahead (0 + 4 + 2 MiB)")
        m.m.stored(upTo: Self.mib)
        #expect(m.nextRequest(now: 0) { _ in true }?.range == ByteRange(6 * Self.mib, 7 * Self.mib))
        #expect(m.nextRequest(now: 0) { _ in true } == nil)
    }

    @Test func nothingStartsPastTheWindowWhileARangeInsideItWaitsForARetry() throws {
        let (m, first) = Self.windowed(ahead: 2 * Self.mib)
        _ = T.deliver(m, first)
        let second = try #require(m.nextRequest(now: 0) { _ in true })
        #expect(m.headersReceived(second.id, status: 206, headers: T.partial(second.range)) == nil)
        _ = m.bytesWritten(second.id, upTo: Self.mib + Self.mib / 2)
        _ = m.requestFinished(second.id, .finished(.failed("connection reset")), now: 0, random: 0)
        var ends: [Int64] = []
        while let r = m.nextRequest(now: 0, canUse: { _ in true }) { ends.append(r.range.end) }
        #expect(ends == [3, 4].map { $0 * Self.mib }, "inside the window only: the rest of its second MiB waits for the retry")
        #expect(!m.m.windowRangeDue(now: 0), "the retry is not due yet")
        #expect(m.m.windowRangeDue(now: 10))
        let retry = try #require(m.nextRequest(now: 10) { _ in true })
        #expect(retry.range == ByteRange(Self.mib + Self.mib / 2, 2 * Self.mib))
        #expect(!m.m.windowRangeDue(now: 10))
        #expect(m.nextRequest(now: 10) { _ in true }?.range == ByteRange(4 * Self.mib, 5 * Self.mib), "then past the window again")
    }

    @Test func aYieldedRequestIsAskedForAgainFromWhereItStoppedWithNoAttemptCounted() throws {
        let (m, first) = Self.windowed(ahead: 2 * Self.mib)
        _ = T.deliver(m, first)
        var all: [FileTransfer.Request] = []
        while let r = m.nextRequest(now: 0, canUse: { _ in true }) { all.append(r) }
        var ahead = try #require(all.last)
        #expect(ahead.range == ByteRange(5 * Self.mib, 6 * Self.mib))
        #expect(m.headersReceived(ahead.id, status: 206, headers: T.partial(ahead.range)) == nil)
        // More times than the retry policy allows attempts: giving a connection back is not a failure.
        for _ in 0..<5 {
            m.m.yielded(ahead.id)
            #expect(m.phase == .downloading)
            let again = try #require(m.nextRequest(now: 0) { _ in true })
            #expect(again.range == ByteRange(5 * Self.mib, 6 * Self.mib))
            ahead = again
        }
        #expect(m.inFlightCount == all.count)
        _ = m.bytesWritten(ahead.id, upTo: 5 * Self.mib + 4096)
        m.m.yielded(ahead.id)
        #expect(m.nextRequest(now: 0) { _ in true }?.range == ByteRange(5 * Self.mib + 4096, 6 * Self.mib), "the received bytes are kept")
    }

    @Test func theJournalHoldsTheStoredPrefixAndWhatWasOnDiskNotWhatWaitsInTheWindow() throws {
        let leftover = ByteRange(8 * Self.mib, 10 * Self.mib)
        let (m, first) = Self.windowed(resumed: IntervalSet([leftover]))
        #expect(m.m.hasherStarted() == IntervalSet([leftover]), "the hasher reads the leftover from disk")
        _ = T.deliver(m, first)
        let second = try #require(m.nextRequest(now: 0) { _ in true })
        _ = T.deliver(m, second)
        m.m.stored(upTo: Self.mib)
        #expect(m.tick(now: 0.6) == [.journal(IntervalSet([ByteRange(0, Self.mib), leftover]))])
        #expect(m.m.windowRanges == IntervalSet([ByteRange(Self.mib, 2 * Self.mib)]))
        // A run that stops writes its windows out: then all of it is on disk.
        m.m.storedEverything()
        #expect(m.m.windowRanges == IntervalSet())
        #expect(m.stop() == [.journal(IntervalSet([ByteRange(0, 2 * Self.mib), leftover]))])
    }

    @Test func aNewHasherStartsTheWindowAtZeroAndKeepsWhatIsOnDisk() throws {
        let (m, first) = Self.windowed(bytes: 16 * Self.mib, request: 4 * Self.mib)
        _ = T.deliver(m, first)
        m.m.stored(upTo: first.range.end)
        #expect(m.m.hasherStarted() == IntervalSet([first.range]), "stored bytes are on disk for the next hasher")
        #expect(m.m.storedTo == 0)
        #expect(m.m.journalRanges == IntervalSet([first.range]))
    }

    @Test func aServerThatIgnoresRangeStillGetsOneWholeFileStream() throws {
        let (m, first) = Self.windowed()
        #expect(m.headersReceived(first.id, status: 200, headers: T.headers([("Content-Length", "\(T.entry.size)")])) != nil)
        _ = m.requestFinished(first.id, .finished(.completed), now: 0)
        let whole = try #require(m.nextRequest(now: 10) { _ in true })
        #expect(whole.range == ByteRange(0, T.entry.size) && !whole.ranged, "the engine pauses it at the window's end instead")
    }

    @Test func withoutAWindowEveryWrittenByteIsJournaled() throws {
        let (m, first) = T.resolvedMachine()
        #expect(m.m.journalRanges == IntervalSet([first.range]))
        #expect(m.m.windowRanges == IntervalSet())
    }
}
