internal import Foundation
internal import HTTPTypes
internal import HubCore
internal import HubStore
internal import Hummingbird
internal import NIOCore

extension Handlers {
    func api(_ type: RepoType, _ readings: [Route.APIReading]) async throws -> Response {
        guard let (reading, repo) = choose(readings, type: { _ in type }, segments: \.repoSegments) else {
            throw HubHTTPError.repoNotFound(readings.first.map { $0.repoSegments.joined(separator: "/") } ?? "")
        }
        label.withLock { $0 = Route.api(type, [reading]).metricsLabel }
        switch reading.endpoint {
        case .info, .revision:
            try allow(.get, .head)
            let revision = reading.endpoint == .revision ? try wholeRevision(reading.rest, repo: repo) : nil
            return try await repoInfo(repo, revision: revision)
        case .tree:
            try allow(.get, .head)
            return try await tree(repo, rest: reading.rest)
        case .pathsInfo:
            try allow(.post, .head)
            return try await pathsInfo(repo, revision: try wholeRevision(reading.rest, repo: repo))
        case .refs:
            try allow(.get, .head)
            return try await refs(repo)
        case .commits:
            try allow(.get, .head)
            return try await commits(repo, revision: try wholeRevision(reading.rest, repo: repo))
        case .xetReadToken:
            throw HubHTTPError.notFound("Xet is not supported by this mirror; files are served over plain HTTP")
        }
    }

    /// A revision that is the whole rest of the path: one encoded segment, or raw `refs/pr/1`.
    func wholeRevision(_ rest: [Substring], repo: RepoRef) throws -> String {
        var segs = rest
        if segs.count > 1 && segs.last == "" { segs.removeLast() }
        let parts = segs.compactMap { PercentEncoding.decode(String($0)) }
        guard parts.count == segs.count, !parts.isEmpty else { throw HubHTTPError.revisionNotFound(repo, segs.joined(separator: "/")) }
        return parts.joined(separator: "/")
    }

    // MARK: repo info

    func repoInfo(_ repo: RepoRef, revision: String?) async throws -> Response {
        let commit = try await commit(repo, revision: revision)
        let view = try await view(repo, commit)
        let info = state.index.repoInfo(repo, seen: seen)
        let expand = Set(query.values("expand"))
        let blobs = query.bool("blobs") ?? false
        // The answer depends on nothing else: the view is one published state of the commit.
        let key = ["\(blobs)", "\(info?.isPrivate ?? false)", "\(info?.isGated ?? false)", info?.gated ?? "-"] + expand.sorted()
        return json(view.answer(key) { repoInfoJSON(repo, commit: commit, view: view, info: info, expand: expand, blobs: blobs) })
    }

    func repoInfoJSON(_ repo: RepoRef, commit: String, view: CommitView, info: RepoInfo?, expand: Set<String>, blobs: Bool) -> [UInt8] {
        func wants(_ key: String) -> Bool { expand.isEmpty || expand.contains(key) }
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        w.field("id", repo.id.description)
        if repo.type == .model && expand.isEmpty { w.field("modelId", repo.id.description) }
        if wants("author"), let ns = repo.id.namespace { w.field("author", ns) }
        if wants("sha") { w.field("sha", commit) }
        if wants("lastModified") { w.field("lastModified", HubDate.format(view.lastModified)) }
        if wants("private") { w.field("private", info?.isPrivate ?? false) }
        if wants("gated") {
            w.key("gated")
            if let info, info.isGated { w.value(info.gated == "auto" ? "auto" : "manual") } else { w.value(false) }
        }
        if wants("disabled") { w.field("disabled", false) }
        if wants("tags") { w.key("tags"); w.beginArray(); w.endArray() }
        if wants("downloads") { w.field("downloads", Int64(0)) }
        if wants("likes") { w.field("likes", Int64(0)) }
        if wants("usedStorage") { w.field("usedStorage", view.totalBytes) }
        if wants("siblings") {
            w.key("siblings")
            w.raw(view.siblingsJSON(blobs: blobs))
        }
        w.endObject()
        return w.bytes
    }

    // MARK: tree

    func tree(_ repo: RepoRef, rest: [Substring]) async throws -> Response {
        let (revision, pathSegments) = try splitRevision(rest, repo: repo, needsPath: false)
        let commit = try await commit(repo, revision: revision)
        var segs = pathSegments
        while segs.last == "" { segs.removeLast() }   // olah: `/tree/{sha}/?recursive=…`
        let folder = segs.isEmpty ? "" : try decodePath(segs)
        let view = try await view(repo, commit)
        guard view.isDirectory(folder) else {
            throw HubHTTPError.entryNotFound(repo, commit: commit, path: folder)
        }
        let recursive = query.bool("recursive") ?? false
        let expand = query.bool("expand") ?? false
        var cursor: String?
        if let c = query.first("cursor") {
            guard let decoded = Base64URL.decode(c) else { throw HubHTTPError.badRequest("invalid cursor") }
            cursor = decoded
        }
        let page = view.listing(folder: folder, recursive: recursive, after: cursor, limit: state.config.pageSize)
        var w = JSONWriter(capacity: page.indices.count * 160 + 2)
        w.beginArray()
        for i in page.indices { view.writeEntry(view.items[i], to: &w) }
        w.endArray()
        var headers: HTTPFields = [:]
        if page.more, let last = page.indices.last {
            // Pinned to the commit so that every page lists the same state.
            var url = baseURL() + "/api/\(repo.type.apiSegment)/\(repo.id)/tree/\(commit)"
            if !folder.isEmpty { url += "/" + PercentEncoding.quote(folder, safe: "") }
            url += "?recursive=\(recursive)&expand=\(expand)&cursor=\(Base64URL.encode(view.items[last].path))"
            headers[.link] = "<\(url)>; rel=\"next\""
        }
        return json(w.bytes, headers: headers)
    }

    // MARK: paths-info

    func pathsInfo(_ repo: RepoRef, revision: String) async throws -> Response {
        let commit = try await commit(repo, revision: revision)
        let view = try await view(repo, commit)
        var paths: [String] = []
        if !isHead {
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            let bytes = Array(body.readableBytesView)
            let contentType = request.headers[.contentType]?.lowercased() ?? ""
            if contentType.hasPrefix("application/json") {
                struct Body: Decodable { var paths: [String]? }
                guard let b = try? JSONDecoder().decode(Body.self, from: Data(bytes)) else { throw HubHTTPError.badRequest("invalid JSON body") }
                paths = b.paths ?? []
            } else {
                paths = QueryItems(Substring(String(decoding: bytes, as: UTF8.self))).values("paths")
            }
        }
        var seen = Set<String>()
        var w = JSONWriter(capacity: paths.count * 160 + 2)
        w.beginArray()
        for var p in paths {
            while p.hasSuffix("/") { p.removeLast() }
            guard RemotePath.problem(with: p) == nil, seen.insert(p).inserted, let i = view.index[p] else { continue }
            view.writeEntry(view.items[i], to: &w)
        }
        w.endArray()
        return json(w.bytes)
    }

    // MARK: refs, commits

    func refs(_ repo: RepoRef) async throws -> Response {
        guard state.policy.isAllowed(repo), state.index.repoExists(repo, seen: seen) else { throw HubHTTPError.repoNotFound(repo.description) }
        try checkVisibility(repo)
        let includePRs = query.bool("include_prs") ?? false
        let tags = Set(state.index.repoInfo(repo, seen: seen)?.tags ?? [])
        var branches: [(String, String, String)] = []
        var tagRefs: [(String, String, String)] = []
        var converts: [(String, String, String)] = []
        var prs: [(String, String, String)] = []
        for (name, commit) in state.index.refs(repo, seen: seen) {
            switch RefKind.of(name, tags: tags) {
            case .pullRequest: prs.append((String(name.dropFirst(8)), name, commit))
            case .convert: converts.append((String(name.dropFirst(13)), name, commit))
            case .tag: tagRefs.append((name, "refs/tags/" + name, commit))
            case .branch: branches.append((name, "refs/heads/" + name, commit))
            case nil: break
            }
        }
        func list(_ key: String, _ items: [(String, String, String)], _ w: inout JSONWriter) {
            w.key(key)
            w.beginArray()
            for (name, ref, commit) in items {
                w.beginObject()
                w.field("name", name)
                w.field("ref", ref)
                w.field("targetCommit", commit)
                w.endObject()
            }
            w.endArray()
        }
        var w = JSONWriter()
        w.beginObject()
        list("branches", branches, &w)
        list("converts", converts, &w)
        list("tags", tagRefs, &w)
        if includePRs { list("pullRequests", prs, &w) }
        w.endObject()
        return json(w.bytes)
    }

    /// One commit, the one the revision names: the store keeps no history.
    func commits(_ repo: RepoRef, revision: String) async throws -> Response {
        let commit = try await commit(repo, revision: revision)
        let view = try await view(repo, commit)
        var w = JSONWriter()
        w.beginArray()
        w.beginObject()
        w.field("id", commit)
        w.field("title", "")
        w.field("message", "")
        w.field("date", HubDate.format(view.lastModified))
        w.key("authors")
        w.beginArray()
        w.endArray()
        w.endObject()
        w.endArray()
        return json(w.bytes)
    }
}
