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
        var repos = Repos(self)
        for digest in Set(asked.blobs) {
            switch find(digest, &repos) {
            case .whole(_, let size): held[digest] = .init(whole: true, size: size)
            case .partial(_, let size, let ranges): held[digest] = .init(whole: false, size: size, ranges: ranges)
            case .planned(let size): held[digest] = .init(whole: false, size: size, ranges: IntervalSet())
            case nil: break
            }
        }
        return try json(JSON.encode(PeerHaveAnswer(blobs: held)))
    }

    /// Repos whose content the caller may see while a sync or pull-through still downloads it: the
    /// repo folder may have no snapshot yet, so its recorded visibility decides (none recorded: hidden).
    func reposInProgress() -> [RepoRef] {
        state.store.repos().filter { repo in
            guard let info = state.index.repoInfo(repo) else { return false }
            if case .granted = state.policy.decide(repo, info: info, authorization: request.headers[.authorization]) { return true }
            return false
        }
    }

    /// A blob this mirror is still downloading in one of `repos`: its partial file, size, and the
    /// ranges its resume journal records as written.
    func partialBlob(_ digest: String, in repos: [RepoRef]) -> (path: String, size: Int64, ranges: IntervalSet)? {
        guard HexDigits.isContentHash(digest) else { return nil }
        for repo in repos {
            for use in PartialFolder.Use.allCases {
                let folder = PartialFolder(state: state.store.stateDirectory(repo), use: use)
                guard let j = ResumeJournal.read(at: folder.directory + "/" + PartialFile.journalName(digest)), j.etag == digest,
                      j.recorded.totalBytes > 0, FS.fileSize(folder.dataPath(digest)) == j.size else { continue }
                return (folder.dataPath(digest), j.size, j.recorded)
            }
        }
        return nil
    }

    /// The size of a blob a sync on this store is about to fetch (no byte of it written yet).
    func plannedBlob(_ digest: String, in repos: [RepoRef]) -> Int64? {
        for repo in repos {
            if let size = PlannedFetches.read(in: PartialFolder(state: state.store.stateDirectory(repo), use: .sync))[digest] { return size }
        }
        return nil
    }

    /// What this mirror holds of a blob, for the `have` and `blobs` routes.
    enum Found {
        /// Verified, in `blobs/` (of a repo with a snapshot, or of one whose first sync is still running).
        case whole(path: String, size: Int64)
        /// Being downloaded: the journal's written ranges.
        case partial(path: String, size: Int64, ranges: IntervalSet)
        /// A running sync is about to download it.
        case planned(size: Int64)
    }

    /// The repos a request may take blobs from, worked out once per request and only as far as needed.
    struct Repos {
        let handlers: Handlers
        lazy var visible: [RepoRef] = handlers.visibleRepos()
        lazy var inProgress: [RepoRef] = handlers.reposInProgress()
        init(_ h: Handlers) { handlers = h }
    }

    func find(_ digest: String, _ repos: inout Repos) -> Found? {
        guard HexDigits.isContentHash(digest) else { return nil }
        if let b = heldBlob(digest, in: repos.visible) { return .whole(path: b.path, size: b.size) }
        // A first sync publishes each verified blob before the snapshot that makes its repo visible.
        if let b = heldBlob(digest, in: repos.inProgress) { return .whole(path: b.path, size: b.size) }
        if let p = partialBlob(digest, in: repos.inProgress) { return .partial(path: p.path, size: p.size, ranges: p.ranges) }
        // The partial file may have become a blob since it was looked for.
        if let b = heldBlob(digest, in: repos.inProgress) { return .whole(path: b.path, size: b.size) }
        if let size = plannedBlob(digest, in: repos.inProgress) { return .planned(size: size) }
        return nil
    }

    func blob(_ digest: String) async throws -> Response {
        var repos = Repos(self)
        let found = find(digest, &repos)
        if case .partial(let path, let size, let ranges) = found { return try await partialBlobResponse(digest, path: path, size: size, ranges: ranges) }
        guard case .whole(let path, let size) = found else { throw HubHTTPError.notFound("blob \(digest) is not held here") }
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

    /// A range of a blob still being downloaded here, if its journal records all of it; anything else
    /// (no Range, a range not yet written) is 404, as for a blob not held.
    func partialBlobResponse(_ digest: String, path: String, size: Int64, ranges: IntervalSet) async throws -> Response {
        let p = (path: path, size: size)
        guard case .partial(let r) = ByteRangeRequest.parse(request.headers[.range], size: size),
              ranges.contains(ByteRange(r.lowerBound, r.upperBound + 1)) else {
            throw HubHTTPError.notFound("blob \(digest) is not held here")
        }
        var headers: HTTPFields = [
            .eTag: "\"\(digest)\"",
            .acceptRanges: "bytes",
            .contentType: "application/octet-stream",
        ]
        _ = Self.apply(.partial(r), size: p.size, to: &headers)
        if isHead { return Response(status: .partialContent, headers: headers, body: ResponseBody()) }
        // Never through the small-blob cache: these bytes are not verified content.
        let body: ResponseBody
        do {
            body = try await state.fileIO.loadFile(path: p.path, range: Int(r.lowerBound)...Int(r.upperBound), context: context, chunkLength: 2 << 20)
        } catch {
            throw HubHTTPError.notFound("blob \(digest) is not held here")
        }
        return Response(status: .partialContent, headers: headers, body: body)
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
