internal import HTTPTypes
internal import HubCore
internal import HubStore
internal import Hummingbird
internal import NIOCore

extension Handlers {
    /// Above this size the HEAD answer carries no size at all: the client refuses plain-HTTP
    /// downloads it knows to be larger (hub-protocol.md §4.7) but downloads fine without a size.
    static let clientSizeCap: Int64 = 50_000_000_000

    /// `HEAD|GET /{prefix}{repo}/resolve/{rev}/{path}`: `200` with the bytes (never a redirect),
    /// single ranges with `206`, `416` past the end.
    func resolve(_ readings: [Route.ResolveReading]) async throws -> Response {
        try allow(.get, .head)
        guard let (reading, repo) = choose(readings, type: \.type, segments: \.repoSegments) else {
            throw HubHTTPError.repoNotFound(readings.first.map { $0.repoSegments.joined(separator: "/") } ?? "")
        }
        let (revision, pathSegments) = try splitRevision(reading.rest, repo: repo, needsPath: true)
        let commit = try await commit(repo, revision: revision)
        let path = try decodePath(pathSegments)
        var view = try await view(repo, commit)
        var entry = view.file(at: path)
        if entry == nil, view.missingPaths.contains(path), state.pull != nil {
            // In the commit's manifest but outside a filtered snapshot: let the fetcher complete it.
            _ = try await pullThrough(repo, revision: commit)
            view = try await self.view(repo, commit)
            entry = view.file(at: path)
        }
        guard let entry else { throw HubHTTPError.entryNotFound(repo, commit: commit, path: path) }

        // The only file ever opened: `blobs/<hex etag>` of this repo, a regular file of the right size.
        let blob = state.store.blobPath(repo, etag: entry.etag)
        guard HexText.isEtag(entry.etag), let st = PosixFS.stamp(blob, followLinks: false), st.isRegularFile, st.size == entry.size else {
            state.index.invalidate(repo, commit: commit)
            throw HubHTTPError.entryNotFound(repo, commit: commit, path: path)
        }
        let size = entry.size
        var headers: HTTPFields = [
            .eTag: "\"\(entry.etag)\"",
            .xLinkedEtag: "\"\(entry.etag)\"",
            .xRepoCommit: commit,
            .acceptRanges: "bytes",
            .contentType: "application/octet-stream",
        ]
        let hideSize = isHead && size > Self.clientSizeCap
        if !hideSize { headers[.xLinkedSize] = String(size) }

        switch ByteRangeRequest.parse(request.headers[.range], size: size) {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentLength] = "0"
            return Response(status: .rangeNotSatisfiable, headers: headers, body: .init())
        case .partial(let r):
            headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"
            headers[.contentLength] = String(r.upperBound - r.lowerBound + 1)
            return try await fileResponse(.partialContent, headers: headers, blob: blob, range: r)
        case .whole:
            if !hideSize { headers[.contentLength] = String(size) }
            return try await fileResponse(.ok, headers: headers, blob: blob, range: size > 0 ? 0...(size - 1) : nil)
        }
    }

    func fileResponse(_ status: HTTPResponse.Status, headers: HTTPFields, blob: String, range: ClosedRange<Int64>?) async throws -> Response {
        if isHead || range == nil {
            // No Content-Length (a huge file's HEAD) must stay absent, not become `0`.
            let empty = headers[.contentLength] != nil ? ResponseBody() : ResponseBody(contentLength: nil) { try await $0.finish(nil) }
            return Response(status: status, headers: headers, body: empty)
        }
        let r = Int(range!.lowerBound)...Int(range!.upperBound)
        if r.count >= 64 << 10 {
            // Large bodies go out with sendfile (Sendfile.swift); the marker stands for the file range.
            let marker = Sendfile.marker(for: .init(path: blob, start: range!.lowerBound, endExclusive: range!.upperBound + 1))
            return Response(status: status, headers: headers, body: ResponseBody(contentLength: r.count) { writer in
                do {
                    try await writer.write(marker)
                } catch {
                    Sendfile.cancel(marker)
                    throw error
                }
                try await writer.finish(nil)
            })
        }
        let body: ResponseBody
        do {
            body = try await state.fileIO.loadFile(path: blob, range: r, context: context, chunkLength: 2 << 20)
        } catch {
            throw HubHTTPError.notFound("blob vanished while serving")
        }
        return Response(status: status, headers: headers, body: body)
    }
}
