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
}

extension ContentSource {
    public var isFallback: Bool { false }
}
