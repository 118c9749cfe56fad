import Foundation
public import HubCore
public import HubHTTP
public import Logging

/// The Hub's HTTP API, read side: revision info, recursive tree listing with `Link` pagination.
/// Every call retries 5xx, 429 (honouring `Retry-After`) and network errors with backoff.
public final class HubAPIClient: @unchecked Sendable {
    public let endpoint: String
    public let http: HTTPClient
    public let retry: RetryPolicy
    let logger: Logger
    private let lock = NSLock()
    private var _requests = 0

    /// Requests sent so far (each retry counts).
    public var requestCount: Int { lock.withLock { _requests } }

    public init(endpoint: String, credentials: Credentials, retry: RetryPolicy = .standard, logger: Logger = Logger(label: "hubmirror.api")) {
        var e = endpoint
        while e.hasSuffix("/") { e.removeLast() }
        self.endpoint = e
        self.http = HTTPClient(credentials: credentials)
        self.retry = retry
        self.logger = logger
    }

    func apiBase(_ repo: RepoRef) -> String { "\(endpoint)/api/\(repo.type.apiSegment)/\(repo.id)" }

    /// The resolve URL of a file at a revision (revision encoded as one segment, path with `/` kept).
    public func resolveURL(_ repo: RepoRef, revision: String, path: String) -> String {
        HubURL.resolve(endpoint: endpoint, repo: repo, revision: revision, path: path)
    }

    /// Resolves a revision (branch, tag, sha, `refs/pr/N`) to its commit and the repo's visibility.
    public func revisionInfo(_ repo: RepoRef, revision: String) throws -> RevisionInfo {
        let url = "\(apiBase(repo))/revision/\(PercentEncoding.revisionSegment(revision))"
        let resp = try get(url, repo: repo, revision: revision, what: "revision info of \(repo)@\(revision)")
        guard let obj = try? JSONSerialization.jsonObject(with: Data(resp.body)) as? [String: Any] else {
            throw HubError(.protocolViolation, "revision info of \(repo)@\(revision) is not a JSON object")
        }
        guard let sha = obj["sha"] as? String, Revision.isCommitSHA(sha) else {
            throw HubError(.protocolViolation, "revision info of \(repo)@\(revision) has no 40-hex 'sha'")
        }
        var gated: String? = nil
        if let g = obj["gated"] as? String { gated = g } else if let g = obj["gated"] as? Bool, g { gated = "true" }
        return RevisionInfo(id: obj["id"] as? String ?? repo.id.description, sha: sha,
                            isPrivate: obj["private"] as? Bool ?? false, gated: gated)
    }

    /// One path of a commit (`POST …/paths-info/{commit}`): its manifest entry, or nil when the
    /// commit has no file there. For answering about one file before the whole tree is listed.
    public func pathInfo(_ repo: RepoRef, commit: String, path: String) throws -> ManifestEntry? {
        let url = "\(apiBase(repo))/paths-info/\(PercentEncoding.revisionSegment(commit))"
        let body = Array("paths=\(PercentEncoding.quote(path, safe: ""))&expand=false".utf8)
        let request = HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: body, timeout: 120)
        let resp = try send(request, repo: repo, revision: commit, what: "paths-info of \(repo)@\(commit):\(path)")
        let entries = try Self.treeEntries(resp, what: "paths-info of \(repo)@\(commit)")
        guard let t = entries.first(where: { $0.path == path && $0.type == "file" }) else { return nil }
        return try t.manifestEntry(repo: repo)
    }

    /// The names of the repo's tags (`GET …/refs`): the cache layout keeps refs but not their kind.
    public func tagNames(_ repo: RepoRef) throws -> [String] {
        let resp = try get("\(apiBase(repo))/refs", repo: repo, revision: Revision.defaultBranch, what: "refs of \(repo)")
        guard let obj = try? JSONSerialization.jsonObject(with: Data(resp.body)) as? [String: Any] else {
            throw HubError(.protocolViolation, "refs of \(repo) is not a JSON object")
        }
        let tags = obj["tags"] as? [[String: Any]] ?? []
        return tags.compactMap { $0["name"] as? String }.filter { (try? Revision.validate($0)) != nil }
    }

    /// The full recursive listing of a commit as a manifest (directories dropped, paths checked).
    public func manifest(_ repo: RepoRef, commit: String) throws -> Manifest {
        var url: String? = "\(apiBase(repo))/tree/\(PercentEncoding.revisionSegment(commit))?recursive=true&expand=false"
        var entries: [ManifestEntry] = []
        var seenPaths = Set<String>()
        var seenURLs = Set<String>()
        while let u = url {
            guard seenURLs.insert(u).inserted else {
                throw HubError(.protocolViolation, "tree listing of \(repo)@\(commit) loops: page \(Redact.url(u)) came twice")
            }
            let resp = try get(u, repo: repo, revision: commit, what: "tree listing of \(repo)@\(commit)")
            let page = try Self.treeEntries(resp, what: "tree listing of \(repo)@\(commit)")
            for t in page where t.type == "file" {
                let e = try t.manifestEntry(repo: repo)
                guard seenPaths.insert(e.path).inserted else { continue }
                entries.append(e)
            }
            url = try LinkHeader.next(resp.headers.values("Link"), base: u)
        }
        // A path that is also a folder of another path cannot be materialized.
        let paths = Set(entries.map(\.path))
        for p in paths {
            var prefix = p
            while let slash = prefix.lastIndex(of: "/") {
                prefix = String(prefix[..<slash])
                if paths.contains(prefix) {
                    throw HubError(.unsafePath, "\(repo)@\(commit): \(prefix.debugDescription) is both a file and a folder")
                }
            }
        }
        return Manifest(repo: repo, commit: commit, entries: entries)
    }

    /// The entries of a tree or paths-info answer.
    static func treeEntries(_ resp: HTTPResponse, what: String) throws -> [TreeEntry] {
        do {
            return try JSONDecoder().decode([TreeEntry].self, from: Data(resp.body))
        } catch {
            throw HubError(.protocolViolation, "\(what) is malformed", wrapping: error)
        }
    }

    /// GET with retries and Hub error mapping.
    func get(_ url: String, repo: RepoRef, revision: String, what: String) throws -> HTTPResponse {
        try send(HTTPRequest(url: url, timeout: 120), repo: repo, revision: revision, what: what)
    }

    func send(_ request: HTTPRequest, repo: RepoRef, revision: String, what: String) throws -> HTTPResponse {
        var attempt = 0
        while true {
            attempt += 1
            lock.withLock { _requests += 1 }
            do {
                let resp = try http.send(request)
                if let err = HubErrorMapping.error(for: resp, repo: repo, revision: revision, path: nil, what: what) { throw err }
                return resp
            } catch let e as HubError {
                guard let wait = retry.delay(afterAttempt: attempt, error: e) else { throw e }
                logger.warning("\(e.message); retrying in \(String(format: "%.1f", wait)) s (attempt \(attempt + 1) of \(retry.maxAttempts))")
                Thread.sleep(forTimeInterval: wait)
            }
        }
    }
}

/// `Link: <https://...>; rel="next"` (GitHub style) parsing.
public enum LinkHeader {
    /// The next page's URL; relative URLs are resolved against `base` (the official client would crash on them).
    public static func next(_ values: [String], base: String) throws -> String? {
        for value in values {
            for part in splitLinks(value) {
                let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let first = pieces.first, first.hasPrefix("<"), first.hasSuffix(">") else { continue }
                let isNext = pieces.dropFirst().contains { p in
                    let kv = p.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    return kv.count == 2 && kv[0].lowercased() == "rel" && kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).split(separator: " ").contains("next")
                }
                if isNext {
                    let target = String(first.dropFirst().dropLast())
                    guard let abs = resolveURL(target, against: base) else {
                        throw HubError(.protocolViolation, "malformed Link next URL \(target.debugDescription)")
                    }
                    return abs
                }
            }
        }
        return nil
    }

    // Commas separate links, but may also appear inside <...>.
    static func splitLinks(_ s: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var inAngle = false
        for c in s {
            if c == "<" { inAngle = true } else if c == ">" { inAngle = false }
            if c == "," && !inAngle { out.append(cur); cur = "" } else { cur.append(c) }
        }
        if !cur.trimmingCharacters(in: .whitespaces).isEmpty { out.append(cur) }
        return out
    }
}
