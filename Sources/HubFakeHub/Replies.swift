import HubCore

extension FakeHub {
    /// Answers a routed request from a snapshot of the state.
    func reply(_ route: Route, _ req: RequestInfo, _ s: State, action: FaultRule.Action?) -> Reply {
        let isGetLike = req.method == "GET" || req.method == "HEAD"
        if s.rejectInvalidTokens, let token = req.bearerToken, !s.validTokens.contains(token) {
            if case .cdnBlob = route {} else {
                return .error(401, code: nil, "Invalid credentials in Authorization header")
            }
        }
        switch route {
        case .unknown, .unknownRepo:
            return .error(404, code: "RepoNotFound", "Repository not found")
        case .agentHarnesses:
            return .json(.object([("standardEnvVars", .array([])), ("harnesses", .object([]))]))
        case .cdnBlob(let sha):
            guard isGetLike else { return .error(405, code: nil, "Method not allowed") }
            return cdnReply(sha: sha, req, s, action: action)
        case .api(let repo, let kind):
            let r: RepoState
            switch access(repo, req, s) {
            case .failure(let denied): return denied
            case .success(let state): r = state
            }
            switch kind {
            case .info(let rev):
                guard isGetLike else { break }
                return infoReply(repo, r, rev: rev, req)
            case .tree(let rev, let path):
                guard isGetLike else { break }
                guard let commit = r.resolve(rev) else { return revisionNotFound(rev) }
                guard let entries = commit.entries(under: path, recursive: req.flag("recursive")) else {
                    return .error(404, code: "EntryNotFound", "\(path) does not exist on \"\(rev)\"", commit: commit.sha)
                }
                return paginated(entries.map(\.json), req, s)
            case .pathsInfo(let rev):
                guard req.method == "POST" || req.method == "HEAD" else { break }
                guard let commit = r.resolve(rev) else { return revisionNotFound(rev) }
                var seen = Set<String>()
                var out: [JSON] = []
                let form = decodeForm(Substring(String(decoding: req.body, as: UTF8.self)))
                for (key, value) in form where key == "paths" {
                    let p = value.split(separator: "/").joined(separator: "/")
                    guard seen.insert(p).inserted, let entry = commit.entry(at: p) else { continue }
                    out.append(entry.json)
                }
                return .json(.array(out))
            case .refs:
                guard isGetLike else { break }
                return refsReply(r, includePRs: req.flag("include_prs"))
            case .commits(let rev):
                guard isGetLike else { break }
                guard var commit = r.resolve(rev) else { return revisionNotFound(rev) }
                var items: [JSON] = []
                while true {
                    let title = commit.message.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
                    items.append(.object([
                        ("id", .string(commit.sha)), ("title", .string(title)), ("message", .string(commit.message)),
                        ("date", .string(commit.date)), ("authors", .array([.object([("user", "fakehub")])])),
                    ]))
                    guard let p = commit.parent, let next = r.commits[p] else { break }
                    commit = next
                }
                return paginated(items, req, s)
            case .unknown:
                return .error(404, code: "RepoNotFound", "Repository not found")
            }
            return .error(405, code: nil, "Method not allowed")
        case .resolve(let repo, let rev, let path):
            guard isGetLike else { return .error(405, code: nil, "Method not allowed") }
            let r: RepoState
            switch access(repo, req, s) {
            case .failure(let denied): return denied
            case .success(let state): r = state
            }
            guard let commit = r.resolve(rev) else { return revisionNotFound(rev) }
            guard var file = commit.files[path] else { return entryNotFound(path, rev, commit.sha) }
            if case .changeContent(let content) = action, let changed = try? file.replacingContent(content) {
                file = changed
                // Let the CDN serve the changed bytes too.
                if changed.lfs { state.withLock { $0.blobs[changed.sha256] = changed } }
            }
            return resolveReply(repo, file, commit: commit.sha, req, s, action: action)
        case .resolveCache(let repo, let sha, let path):
            guard isGetLike else { return .error(405, code: nil, "Method not allowed") }
            let r: RepoState
            switch access(repo, req, s) {
            case .failure(let denied): return denied
            case .success(let state): r = state
            }
            guard let commit = r.commits[sha] else { return revisionNotFound(sha) }
            guard var file = commit.files[path] else { return entryNotFound(path, sha, sha) }
            if case .changeContent(let content) = action, let changed = try? file.replacingContent(content) { file = changed }
            return contentReply(file, req, s, action: action, headers: [
                ("ETag", "\"\(file.etag)\""), ("X-Repo-Commit", commit.sha),
            ])
        }
    }

    enum Access { case success(RepoState), failure(Reply) }

    func access(_ repo: RepoRef, _ req: RequestInfo, _ s: State) -> Access {
        guard let r = s.repos[repo] else { return .failure(Reply.repoNotFound()) }
        let authorized = req.bearerToken.map { s.validTokens.contains($0) } ?? false
        if r.isPrivate && !authorized { return .failure(Reply.repoNotFound()) }
        if r.gated && !authorized {
            return .failure(Reply.error(
                403, code: "GatedRepo",
                "Access to \(repo.type.rawValue) \(repo.id) is restricted. You must have access to it and be authenticated to access it. Please log in."))
        }
        return .success(r)
    }

    func revisionNotFound(_ rev: String) -> Reply { .error(404, code: "RevisionNotFound", "Invalid rev id: \(rev)") }

    func entryNotFound(_ path: String, _ rev: String, _ commit: String) -> Reply {
        .error(404, code: "EntryNotFound", "Entry not found: \(path) does not exist on \"\(rev)\"", commit: commit)
    }
}
