public import HubCore
public import HubHTTP

/// Where the bytes of one content can come from: the Hub endpoint (and the CDN it redirects to), a
/// peer mirror, later a bundle or an object store. A source only says where to ask and what its
/// answers mean; the transfer state machine decides what to do with them, and the digest decides
/// whether the bytes are kept.
public protocol ContentSource: Sendable {
    /// Stable name for connection limits, strikes and reports, e.g. `upstream` or `peer http://b:8080`.
    var id: String { get }
    /// Most requests to this source in flight at once, across all files of a run.
    var maxConnections: Int { get }
    /// Which token goes with a request to a URL: only ever the source's own origin's.
    var credentials: Credentials { get }
    /// Where to ask first for the content of `entry`; redirects from there are followed.
    func url(for entry: ManifestEntry) -> String
    /// True when `url` is this source's own origin rather than a host it redirected to: its error
    /// answers carry the source's error codes and its plain `ETag` names the content.
    func isOwnOrigin(_ url: String) -> Bool
    /// The error an answer of `status` (>= 400) from the source's own origin stands for.
    func error(status: Int, headers: HTTPHeaders, url: String, label: String) -> HubError
    /// A fallback is asked only while no other source of the file is usable (the upstream behind
    /// peers: it must not take ranges just because the peers' connections are busy).
    var isFallback: Bool { get }
    /// Which bytes of `entry` the source can serve now, and whether it is getting more of them (a peer
    /// that is itself still downloading the content). Asked each time a range is to be placed.
    func availability(of entry: ManifestEntry) -> SourceAvailability
    /// The name under which the mirrors of a fleet know this source (its base URL) for rendezvous
    /// hashing; nil for a source that is not a mirror of the fleet (the upstream).
    var fleetMember: String? { get }
}

extension ContentSource {
    public var isFallback: Bool { false }
    public func availability(of entry: ManifestEntry) -> SourceAvailability { .whole }
    public var fleetMember: String? { nil }
}

/// What a source holds of one content.
public struct SourceAvailability: Sendable, Equatable {
    /// Every byte (a verified blob, or the upstream).
    public var whole: Bool
    /// The bytes it holds when not whole.
    public var ranges: IntervalSet
    /// It is downloading the content and making progress: it will soon hold what it lacks, so the
    /// upstream is not asked for that.
    public var fetching: Bool
    /// It is reachable and expected to start on the content soon (a mirror of a fleet started together
    /// that has not got to it yet).
    public var expected: Bool

    public init(whole: Bool, ranges: IntervalSet = IntervalSet(), fetching: Bool = false, expected: Bool = false) {
        self.whole = whole
        self.ranges = ranges
        self.fetching = fetching
        self.expected = expected
    }

    public static let whole = SourceAvailability(whole: true)
    /// Holds nothing and will not: not asked.
    public static let none = SourceAvailability(whole: false)

    /// True when it can serve all of `range` now.
    public func holds(_ range: ByteRange) -> Bool { whole || ranges.contains(range) }
    /// Reachable and holding, getting or about to get the content.
    public var live: Bool { whole || fetching || expected }
}
