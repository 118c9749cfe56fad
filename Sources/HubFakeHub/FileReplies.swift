import Foundation
import HubCore
import HubDigest

extension FakeHub {
    func resolveReply(_ repo: RepoRef, _ file: StoredFile, commit: String, _ req: RequestInfo, _ s: State, action: FaultRule.Action?) -> Reply {
        let quotedPath = PercentEncoding.filePath(file.path)
        let apiRepo = "\(repo.type.apiSegment)/\(repo.id)"
        var meta: [(String, String)] = [
            ("X-Repo-Commit", commit), ("X-Linked-Etag", "\"\(file.etag)\""), ("X-Linked-Size", String(file.size)),
        ]
        if s.liveHubStyle && file.lfs {
            let xet = Digest.hex(.sha256, of: Array("xet:\(file.sha256)".utf8))
            let cas = s.cdnPort.map { "http://\(s.cdnHost):\($0)" } ?? "http://\(s.hubHost):\(s.hubPort)"
            meta += [
                ("X-Xet-Hash", xet),
                ("Link", "<http://\(s.hubHost):\(s.hubPort)/api/\(apiRepo)/xet-read-token/\(commit)>; rel=\"xet-auth\", <\(cas)/v1/reconstructions/\(xet)>; rel=\"xet-reconstruction-info\""),
            ]
        }
        if file.lfs, let base = s.cdnBase {
            return Reply(status: 302, headers: [("Location", "\(base)/\(apiRepo)/\(quotedPath)"), ("ETag", "\"\(file.etag)\"")] + meta)
        }
        if s.liveHubStyle {
            if !file.lfs {
                let location = "/api/resolve-cache/\(apiRepo)/\(commit)/\(quotedPath)?etag=%22\(file.etag)%22"
                return Reply(
                    status: 307, headers: [("Location", location), ("X-Repo-Commit", commit), ("Content-Type", "text/plain; charset=utf-8")],
                    body: .data(Array("Temporary Redirect. Redirecting to \(location)".utf8)))
            }
            if let cdnPort = s.cdnPort {
                let expires = Int(Date().timeIntervalSince1970) + s.signedURLLifetime
                let location = "http://\(s.cdnHost):\(cdnPort)/repos/\(file.sha256)?expires=\(expires)&sig=\(signature(file.sha256, expires))"
                // Like HF: the ETag of the redirect is not the content hash; X-Linked-Etag is.
                return Reply(status: 302, headers: [("Location", location), ("ETag", "\"\(file.blobID)\"")] + meta)
            }
        }
        return contentReply(file, req, s, action: action, headers: [("ETag", "\"\(file.etag)\"")] + meta)
    }

    func signature(_ sha256: String, _ expires: Int) -> String {
        String(Digest.hex(.sha256, of: Array("\(signingKey):\(sha256):\(expires)".utf8)).prefix(32))
    }

    func cdnReply(sha: String, _ req: RequestInfo, _ s: State, action: FaultRule.Action?) -> Reply {
        guard let expiresText = req.query("expires"), let expires = Int(expiresText), req.query("sig") == signature(sha, expires) else {
            return Reply(status: 403, headers: [("Content-Type", "application/xml")],
                         body: .data(Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Invalid signature</Message></Error>".utf8)))
        }
        if expires <= Int(Date().timeIntervalSince1970) { return .expired }
        guard var file = s.blobs[sha] else {
            return Reply(status: 404, headers: [("Content-Type", "application/xml")],
                         body: .data(Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code></Error>".utf8)))
        }
        if case .changeContent(let content) = action, let changed = try? file.replacingContent(content) { file = changed }
        return contentReply(file, req, s, action: action, headers: [("ETag", "\"\(file.sha256)\"")])
    }

    /// 200 with the whole content, 206 for one satisfiable range (end clamped), 416 past the end.
    func contentReply(_ file: StoredFile, _ req: RequestInfo, _ s: State, action: FaultRule.Action?, headers: [(String, String)]) -> Reply {
        var headers = headers + [("Accept-Ranges", "bytes"), ("Content-Type", "application/octet-stream")]
        let total = file.size
        let ignoreRange = s.ignoreRangeAlways || action == .ignoreRange
        if let header = req.headers["range"], !ignoreRange, let spec = ByteRangeSpec.parse(header) {
            switch spec.resolve(total: total) {
            case .unsatisfiable:
                headers.append(("Content-Range", "bytes */\(total)"))
                return Reply(status: 416, headers: headers)
            case .satisfiable(let a, let b):
                headers.append(("Content-Range", "bytes \(a)-\(b)/\(total)"))
                return Reply(status: 206, headers: headers, body: .content(file.content, start: a, length: b - a + 1))
            }
        }
        return Reply(status: 200, headers: headers, body: .content(file.content, start: 0, length: total))
    }
}
