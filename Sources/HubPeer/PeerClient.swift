public import HubCore
import Foundation
import HubHTTP
import HubStore

/// The peer protocol's API calls: catalog, manifests and the batch `have` query.
public struct PeerClient: Sendable {
    public let base: String
    let http: HTTPClient

    public init(base: String, token: String?) {
        self.base = PeerProtocol.base(base)
        http = HTTPClient(credentials: Credentials(token: token, endpoint: self.base), maxBody: 256 << 20)
    }

    var name: String { "peer \(Origin(url: base)?.description ?? base)" }

    /// Which of `digests` the peer holds. An unreachable peer or a bad answer throws.
    public func have(_ digests: [String], timeout: Double = 30) throws -> PeerHaveAnswer {
        let body = try JSON.encode(PeerHaveRequest(blobs: digests))
        let resp = try http.send(HTTPRequest(method: "POST", url: base + PeerProtocol.prefix + "/have",
                                             headers: [("Content-Type", "application/json")], body: body, timeout: timeout))
        return try decode(PeerHaveAnswer.self, resp, what: "have")
    }

    public func catalog() throws -> PeerCatalog {
        try decode(PeerCatalog.self, try http.send(HTTPRequest(url: base + PeerProtocol.prefix + "/catalog", timeout: 60)), what: "catalog")
    }

    public func manifest(_ repo: RepoRef, commit: String) throws -> Manifest {
        let resp = try http.send(HTTPRequest(url: base + PeerProtocol.manifestPath(repo, commit: commit), timeout: 60))
        return try decode(PeerManifestAnswer.self, resp, what: "manifest of \(repo)@\(commit)").manifest
    }

    func decode<T: Decodable>(_ type: T.Type, _ resp: HTTPResponse, what: String) throws -> T {
        guard resp.status == 200 else {
            throw HubError(resp.status == 404 ? .repoNotFound : .http, "\(name): \(what) answered HTTP \(resp.status)", retryable: resp.status >= 500)
        }
        do { return try JSON.decode(T.self, from: resp.body) } catch {
            throw HubError(.protocolViolation, "\(name): \(what) is not a protocol \(PeerProtocol.version) answer: \(error)")
        }
    }
}
