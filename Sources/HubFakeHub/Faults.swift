public import HubCore

extension FakeHub {
    /// Which of the fake's two HTTP servers.
    public enum Server: String, Sendable, Hashable {
        /// The Hub itself (`endpoint`).
        case hub
        /// The separate CDN host LFS files redirect to in live-Hub style (`cdnEndpoint`).
        case cdn
    }

    /// A fault to inject into matching requests, `times` times (then it is spent).
    ///
    /// The first rule (in the order added) that matches a request and still has shots left fires; at most
    /// one rule fires per request.
    public struct FaultRule: Sendable {
        /// Which server the rule applies to.
        public enum Target: Sendable, Hashable { case hub, cdn, any }

        /// Which requests the rule matches.
        public enum Match: Sendable, Hashable {
            /// A file path inside a repo (decoded, e.g. `sub/dir/w.bin`): its `/resolve/`, resolve-cache and
            /// CDN requests (a CDN request matches when the blob it asks for is stored at that path).
            case file(String)
            /// The raw request target (path + query, as sent) contains this substring.
            case rawPathContains(String)
            /// Every request.
            case any
        }

        /// Restricts a rule to one method.
        public enum Method: Sendable, Hashable { case head, get, post }

        /// Restricts a rule by the request's `Range` header.
        public enum RangeCondition: Sendable, Hashable {
            case any
            /// Only requests with a `Range` header.
            case ranged
            /// Only requests without a `Range` header.
            case unranged
            /// Only ranged requests whose (first) range starts at this byte offset (`bytes=N-...`).
            case startingAt(Int64)
        }

        /// What happens to a matched request.
        public enum Action: Sendable, Hashable {
            /// Answer this status with an empty body (e.g. 500, 503).
            case status(Int)
            /// Answer 429 with `Retry-After: <seconds>`.
            case tooManyRequests(retryAfter: Int)
            /// Send the head with the full `Content-Length`, then this many body bytes, then reset the
            /// connection (TCP RST via `SO_LINGER` 0).
            case resetAfter(bytes: Int)
            /// Like `resetAfter` but close cleanly (FIN): the body is cut short.
            case truncateAfter(bytes: Int)
            /// Flip (xor 0xFF) the byte at this absolute content offset, in whatever range covers it.
            case corruptByte(offset: Int64)
            /// Answer a ranged request with 200 and the whole body.
            case ignoreRange
            /// Send the body slowly.
            case trickle(bytesPerSecond: Int)
            /// Send this many body bytes, then hang without closing until the client closes the
            /// connection or the hub stops.
            case stallAfter(bytes: Int)
            /// Serve this content (size, ETag, bytes) instead of the file's, as if it changed upstream.
            case changeContent(FileContent)
            /// Answer 403 as a CDN does for an expired signed URL.
            case expiredSignature
            /// Answer 302 with this `Location` (any URL, e.g. `file:///etc/passwd`).
            case redirect(location: String)
        }

        public var target: Target
        public var match: Match
        /// Only requests for this repo (hub routes; CDN requests match on the blob's repos).
        public var repo: RepoRef?
        public var method: Method?
        public var range: RangeCondition
        public var times: Int
        public var action: Action

        public init(
            _ target: Target = .any, match: Match, repo: RepoRef? = nil, method: Method? = nil,
            range: RangeCondition = .any, times: Int = 1, action: Action
        ) {
            self.target = target
            self.match = match
            self.repo = repo
            self.method = method
            self.range = range
            self.times = times
            self.action = action
        }
    }

    /// Identifies an added fault rule.
    public struct FaultID: Hashable, Sendable { let raw: Int }
}

/// A rule with its remaining shots.
struct ActiveFault: Sendable {
    let id: FakeHub.FaultID
    let rule: FakeHub.FaultRule
    var remaining: Int
    var fired = 0
}

/// What is known about a request when faults are matched.
struct FaultProbe {
    var server: FakeHub.Server
    var method: String
    var rawTarget: String
    var filePaths: Set<String>
    var repos: Set<RepoRef>
    var rangeHeader: String?

    func matches(_ rule: FakeHub.FaultRule) -> Bool {
        switch rule.target {
        case .any: break
        case .hub: if server != .hub { return false }
        case .cdn: if server != .cdn { return false }
        }
        switch rule.match {
        case .any: break
        case .file(let p): if !filePaths.contains(p) { return false }
        case .rawPathContains(let s): if !rawTarget.contains(s) { return false }
        }
        if let repo = rule.repo, !repos.contains(repo) { return false }
        if let m = rule.method {
            switch m {
            case .head: if method != "HEAD" { return false }
            case .get: if method != "GET" { return false }
            case .post: if method != "POST" { return false }
            }
        }
        switch rule.range {
        case .any: break
        case .ranged: if rangeHeader == nil { return false }
        case .unranged: if rangeHeader != nil { return false }
        case .startingAt(let offset):
            guard let h = rangeHeader, case .some(.bounds(let a, _)) = ByteRangeSpec.parse(h), a == offset else { return false }
        }
        return true
    }
}

extension FakeHub {
    // MARK: Faults

    /// Adds a fault rule; rules are tried in the order added.
    @discardableResult
    public func addFault(_ rule: FaultRule) -> FaultID {
        state.withLock { s in
            let id = FaultID(raw: s.nextFaultID)
            s.nextFaultID += 1
            s.faults.append(ActiveFault(id: id, rule: rule, remaining: rule.times))
            return id
        }
    }

    /// How many times a rule has fired so far.
    public func firedCount(_ id: FaultID) -> Int { state.withLock { s in s.faults.first { $0.id == id }?.fired ?? 0 } }

    /// Removes one rule (spent rules are kept until removed, so `firedCount` keeps answering).
    public func removeFault(_ id: FaultID) { state.withLock { $0.faults.removeAll { $0.id == id } } }

    public func removeAllFaults() { state.withLock { $0.faults = [] } }

    /// Takes one shot of the first matching rule.
    func takeFault(_ probe: FaultProbe) -> FaultRule.Action? {
        state.withLock { s in
            for i in s.faults.indices where s.faults[i].remaining > 0 && probe.matches(s.faults[i].rule) {
                s.faults[i].remaining -= 1
                s.faults[i].fired += 1
                return s.faults[i].rule.action
            }
            return nil
        }
    }
}
