internal import Foundation
internal import HTTPTypes
internal import HubCore
internal import HubPeer
internal import HubStore
internal import Hummingbird
internal import NIOCore

/// The peer protocol (`/api/mirror/v1/`, Docs/peer-protocol.md): what other mirrors ask of this one.
/// A repo the caller may not see (private or gated without a configured token, or outside `--allow`)
/// is absent from every answer, and so are its blobs.
extension Handlers {
    func peer(_ segments: [Substring]) async throws -> Response {
        label.withLock { $0 = "peer" }
        switch segments.first {
        case "catalog" where segments.count == 1:
            try allow(.get, .head)
            return try json(JSON.encode(catalog()))
        case "have" where segments.count == 1:
            try allow(.post)
            return try await have()
        case "blobs" where segments.count == 2:
            try allow(.get, .head)
            // Body bytes served to peers are counted under this route in /metrics.
            label.withLock { $0 = "peer_blob" }
            return try await blob(String(segments[1]))
        case "manifests" where segments.count >= 4:
            try allow(.get, .head)
            return try manifest(Array(segments.dropFirst()))
        default:
            throw HubHTTPError.notFound("no such peer route (protocol \(PeerProtocol.version))")
        }
    }

    /// Repos of the store the caller may see.
    func visibleRepos() -> [RepoRef] { state.store.repos().filter(isVisible) }

    /// True when the store holds `repo` and the caller may see it.
    func isVisible(_ repo: RepoRef) -> Bool {
        guard state.index.repoExists(repo) else { return false }
        if case .granted = state.policy.decide(repo, info: state.index.repoInfo(repo), authorization: request.headers[.authorization]) { return true }
        return false
    }

    func catalog() -> PeerCatalog {
        var repos: [PeerCatalog.Repo] = []
        for repo in visibleRepos().sorted(by: { $0.description < $1.description }) {
            let info = state.index.repoInfo(repo)
            let tags = Set(info?.tags ?? [])
            var branches: [String: String] = [:], tagRefs: [String: String] = [:], prs: [String: String] = [:]
            for (name, commit) in state.index.refs(repo) {
                switch RefKind.of(name, tags: tags) {
                case .branch: branches[name] = commit
                case .tag: tagRefs[name] = commit
                case .pullRequest: prs[name] = commit
                case .convert, nil: break
                }
            }
            repos.append(.init(type: repo.type.rawValue, id: repo.id.description, branches: branches, tags: tagRefs, pullRequests: prs,
                               private: info?.isPrivate ?? false, gated: info?.isGated ?? false))
        }
        return PeerCatalog(repos: repos)
    }

    /// The path and size of a verified blob with this digest in one of `repos` (those the caller may see).
    func heldBlob(_ digest: String, in repos: [RepoRef]) -> (path: String, size: Int64)? {
        guard HexDigits.isContentHash(digest) else { return nil }
        for repo in repos {
            let path = state.store.blobPath(repo, etag: digest)
            if let size = FS.fileSize(path), Self.isBlob(path, size: size) { return (path, size) }
        }
        return nil
    }

    func have() async throws -> Response {
        var req = request
        let buffer: ByteBuffer
        do { buffer = try await req.collectBody(upTo: context.maxUploadSize) } catch {
            throw HubHTTPError(status: .contentTooLarge, code: nil, message: "have: body larger than \(context.maxUploadSize) bytes")
        }
        let asked: PeerHaveRequest
        do { asked = try JSON.decode(PeerHaveRequest.self, from: Array(buffer.readableBytesView)) } catch {
            throw HubHTTPError(status: .badRequest, code: nil, message: "have: the body is not {\"blobs\": [digest, ...]}")
        }
        var held: [String: PeerHaveAnswer.Held] = [:]
        let repos = visibleRepos()
        for digest in Set(asked.blobs) {
            if let b = heldBlob(digest, in: repos) { held[digest] = .init(whole: true, size: b.size) }
        }
        return try json(JSON.encode(PeerHaveAnswer(blobs: held)))
    }

    func blob(_ digest: String) async throws -> Response {
        guard let (path, size) = heldBlob(digest, in: visibleRepos()) else { throw HubHTTPError.notFound("blob \(digest) is not held here") }
        var headers: HTTPFields = [
            .eTag: "\"\(digest)\"",
            .acceptRanges: "bytes",
            .contentType: "application/octet-stream",
        ]
        guard let (status, range) = Self.apply(ByteRangeRequest.parse(request.headers[.range], size: size), size: size, to: &headers) else {
            return Response(status: .rangeNotSatisfiable, headers: headers, body: .init())
        }
        return try await fileResponse(status, headers: headers, blob: path, etag: digest, size: size, range: range)
    }

    /// `manifests/{type}/{repo id, one or two segments}/{commit}`.
    func manifest(_ segs: [Substring]) throws -> Response {
        guard let type = RepoType(parsing: String(segs[0])), let commit = segs.last.map(String.init), Revision.isCommitSHA(commit),
              let id = Route.repoID(Array(segs[1..<(segs.count - 1)])) else {
            throw HubHTTPError.notFound("manifests/{type}/{repo}/{40-hex commit}")
        }
        let repo = RepoRef(type: type, id: id)
        guard isVisible(repo) else { throw HubHTTPError.repoNotFound(repo.description) }
        guard let m = state.store.loadManifest(repo, commit: commit) else {
            throw HubHTTPError.notFound("no manifest of \(repo)@\(commit) here")
        }
        return try json(JSON.encode(PeerManifestAnswer(manifest: m)))
    }
}
