import HubCore

extension FakeHub {
    func infoReply(_ repo: RepoRef, _ r: RepoState, rev: String, _ req: RequestInfo) -> Reply {
        guard let commit = r.resolve(rev) else { return revisionNotFound(rev) }
        let blobs = req.flag("blobs")
        let siblings: [JSON] = commit.files.values.sorted { $0.path < $1.path }.map { f in
            var fields: [(String, JSON)] = [("rfilename", .string(f.path))]
            if blobs {
                fields.append(("size", .int(f.size)))
                fields.append(("blobId", .string(f.blobID)))
                if f.lfs {
                    fields.append(("lfs", .object([("sha256", .string(f.sha256)), ("size", .int(f.size)), ("pointerSize", .int(Int64(f.pointerSize ?? 0)))])))
                }
            }
            return .object(fields)
        }
        var fields: [(String, JSON)] = [("id", .string(repo.id.description))]
        if let ns = repo.id.namespace { fields.append(("author", .string(ns))) }
        fields += [
            ("sha", .string(commit.sha)), ("lastModified", .string(commit.date)), ("createdAt", .string(FakeHub.isoDate(r.createdSequence))),
            ("private", .bool(r.isPrivate)), ("gated", r.gated ? "manual" : .bool(false)), ("disabled", .bool(false)),
            ("siblings", .array(siblings)),
        ]
        let expand = Set(req.queryAll("expand"))
        if !expand.isEmpty { fields = fields.filter { $0.0 == "id" || expand.contains($0.0) } }
        return .json(.object(fields))
    }

    func refsReply(_ r: RepoState, includePRs: Bool) -> Reply {
        func item(_ name: String, _ ref: String, _ sha: String) -> JSON {
            .object([("name", .string(name)), ("ref", .string(ref)), ("targetCommit", .string(sha))])
        }
        var fields: [(String, JSON)] = [
            ("branches", .array(r.branches.sorted { $0.key < $1.key }.map { item($0.key, "refs/heads/" + $0.key, $0.value) })),
            ("converts", .array(r.otherRefs.filter { $0.key.hasPrefix("refs/convert/") }.sorted { $0.key < $1.key }
                .map { item(String($0.key.dropFirst(13)), $0.key, $0.value) })),
            ("tags", .array(r.tags.sorted { $0.key < $1.key }.map { item($0.key, "refs/tags/" + $0.key, $0.value) })),
        ]
        if includePRs {
            fields.append(("pullRequests", .array(r.otherRefs.filter { $0.key.hasPrefix("refs/pr/") }.sorted { $0.key < $1.key }
                .map { item($0.key, $0.key, $0.value) })))
        }
        return .json(.object(fields))
    }

    /// One page of `items` from `?cursor=`, with an absolute `Link: <...>; rel="next"` built from `Host`.
    func paginated(_ items: [JSON], _ req: RequestInfo, _ s: State) -> Reply {
        let start = min(max(0, Int(req.query("cursor") ?? "") ?? 0), items.count)
        let end = min(items.count, start + s.pageSize)
        var headers: [(String, String)] = []
        if end < items.count {
            let host = req.headers["host"] ?? "\(s.hubHost):\(s.hubPort)"
            var query = req.query.filter { $0.0 != "cursor" }.map { "\(PercentEncoding.quote($0.0, safe: ""))=\(PercentEncoding.quote($0.1, safe: ""))" }
            query.append("cursor=\(end)")
            headers.append(("Link", "<http://\(host)\(req.pathPart)?\(query.joined(separator: "&"))>; rel=\"next\""))
        }
        return .json(.array(Array(items[start..<end])), headers: headers)
    }
}
