import HubCore
import HubHTTP

/// The Hub endpoint as a source for a caller that already holds a file's resolve URL: like
/// `HubEndpointSource`, but every content is asked for at that one URL.
struct PinnedURLSource: ContentSource {
    let url: String
    let credentials: Credentials
    private let origin: Origin?

    init(url: String, endpoint: String, credentials: Credentials) {
        self.url = url
        self.credentials = credentials
        origin = Origin(url: endpoint.isEmpty ? url : endpoint)
    }

    var id: String { "upstream \(origin?.description ?? url)" }
    var maxConnections: Int { .max }
    func url(for entry: ManifestEntry) -> String { url }
    func isOwnOrigin(_ url: String) -> Bool { Origin(url: url) == origin }
    func error(status: Int, headers: HTTPHeaders, url: String, label: String) -> HubError {
        HubErrorMapping.fileError(status: status, headers: headers, url: url, label: label)
    }
}
