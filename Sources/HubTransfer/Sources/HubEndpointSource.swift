public import HubCore
public import HubHTTP

/// The Hub endpoint as a content source: files are asked for at their resolve URL pinned to a commit,
/// redirects to the CDN are followed (the token stays with the endpoint's origin), and error answers
/// are read by their `X-Error-Code` as the official client reads them (`HubErrorMapping`).
public struct HubEndpointSource: ContentSource {
    public let endpoint: String
    public let repo: RepoRef
    public let commit: String
    public let credentials: Credentials
    public let maxConnections: Int
    /// Behind peers: asked only for what no peer can serve.
    public let isFallback: Bool
    private let origin: Origin?

    public init(endpoint: String, repo: RepoRef, commit: String, credentials: Credentials, maxConnections: Int = .max, isFallback: Bool = false) {
        self.isFallback = isFallback
        self.endpoint = endpoint
        self.repo = repo
        self.commit = commit
        self.credentials = credentials
        self.maxConnections = maxConnections
        origin = Origin(url: endpoint)
    }

    public var id: String { "upstream \(origin?.description ?? endpoint)" }

    public func url(for entry: ManifestEntry) -> String {
        HubURL.resolve(endpoint: endpoint, repo: repo, revision: commit, path: entry.path)
    }

    public func isOwnOrigin(_ url: String) -> Bool { Origin(url: url) == origin }

    public func error(status: Int, headers: HTTPHeaders, url: String, label: String) -> HubError {
        HubErrorMapping.fileError(status: status, headers: headers, url: url, label: label)
    }
}
