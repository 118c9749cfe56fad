public import HubCore
public import HubHTTP
public import HubTransfer

/// A peer mirror (`hubmirror serve`) as a content source: blobs by digest under `/api/mirror/v1/blobs/`.
/// Its token, if any, is bound to the peer's origin; the upstream token never goes to a peer. Nothing
/// it sends is trusted further than the digest checks.
public struct PeerSource: ContentSource {
    public let base: String
    public let credentials: Credentials
    public let maxConnections: Int
    private let origin: Origin?
    /// What the peer holds, kept current while a fetch runs (nil: it holds every content asked of it).
    private let watch: (PeerWatch, Int)?

    /// - Parameter watch: the watch that queries this peer, and the peer's index in it.
    public init(base: String, token: String?, maxConnections: Int = 4, watch: (PeerWatch, Int)? = nil) {
        self.base = PeerProtocol.base(base)
        credentials = Credentials(token: token, endpoint: self.base)
        self.maxConnections = maxConnections
        origin = Origin(url: self.base)
        self.watch = watch
    }

    public func availability(of entry: ManifestEntry) -> SourceAvailability {
        guard let (w, i) = watch else { return .whole }
        return w.availability(peer: i, digest: entry.etag)
    }

    /// Mirrors of a fleet know each other by base URL.
    public var fleetMember: String? { base }

    public var id: String { "peer \(origin?.description ?? base)" }

    public func url(for entry: ManifestEntry) -> String { base + PeerProtocol.blobPath(entry.etag) }

    public func isOwnOrigin(_ url: String) -> Bool { Origin(url: url) == origin }

    public func error(status: Int, headers: HTTPHeaders, url: String, label: String) -> HubError {
        switch status {
        case 404:
            return HubError(.entryNotFound, "\(label): \(id) does not hold it (404)", retryable: false)
        case 401, 403:
            return HubError(.unauthorized, "\(label): \(id) refused access (\(status)); check --peer-token", retryable: false)
        default:
            return RetryPolicy.error(forStatus: status, headers: headers, url: url, what: "\(label) from \(id)")
                ?? HubError(.http, "\(label): HTTP \(status) from \(id)")
        }
    }
}
