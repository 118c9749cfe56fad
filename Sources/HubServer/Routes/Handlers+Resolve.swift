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
        let (commit, path, entry, view) = try await locate(repo, revision: revision, pathSegments: pathSegments)

        // The only file ever opened: `blobs/<hex etag>` of this repo, a regular file of the right size.
        let blob = state.index.paths.paths(repo).blob(entry.etag)
        guard HexText.isEtag(entry.etag) else { throw HubHTTPError.entryNotFound(repo, commit: commit, path: path) }
        var held = !(view?.missingPaths.contains(path) ?? false) && state.index.isBlob(blob, size: entry.size, seen: seen)
        if !held && state.pull == nil {
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

        var rangeRequest = ByteRangeRequest.parse(request.headers[.range], size: size)
        if case .partial = rangeRequest, state.cutStreams.wasCut(repo, etag: entry.etag) {
            // A resumed download could keep bad bytes from a cut stream: make the client start over.
            rangeRequest = .whole
        }
        guard let (status, range) = Self.apply(rangeRequest, size: size, to: &headers, sizeShown: !hideSize) else {
            return Response(status: .rangeNotSatisfiable, headers: headers, body: .init())
        }
        if !held && !isHead, let pull = state.pull {
            // Not in the store yet: fetch it (or join the fetch under way). A HEAD is answered from
            // the manifest alone, so probing a file never starts a download.
            let task: Task<Void, any Error>, progress: PullProgress
            do {
                (task, progress) = try await pull.fetch(repo: repo, commit: commit, entry: entry, metrics: state.metrics)
                if try await Self.value(of: task, waitingAtMost: state.config.pullThroughVerifyWait) != nil {
                    state.index.invalidate(repo, commit: commit)
                    held = Self.isBlob(blob, size: size)
                }
            } catch {
                throw Self.upstreamError(error, repo: repo, revision: commit, path: path)
            }
            if !held, range != nil, state.config.pullThroughVerifyWait > .zero,
               case .failed(let error)? = await Self.firstBytes(of: progress, waitingAtMost: Self.firstByteWait).outcome {
                // It failed before sending a byte (a 404 upstream on a loaded machine): answer its error, not a cut 200.
                // (A zero verify wait asks for streaming at once, so then nothing is waited for.)
                throw Self.upstreamError(error, repo: repo, revision: commit, path: path)
            }
            if !held, let range {
                seen.notReusable()
                let cuts = state.cutStreams
                let stream = PullStream(progress: progress, blob: blob, range: range, size: size, label: "\(repo):\(path)",
                                        logger: context.logger, onBadBytesSent: { cuts.record(repo, etag: entry.etag) })
                return Response(status: status, headers: headers, body: ResponseBody(contentLength: range.count) { writer in
                    try await stream.write(to: &writer)
                })
            }
        }
        return try await fileResponse(status, headers: headers, blob: blob, etag: entry.etag, size: size, range: range)
    }

    /// The commit, path and manifest entry a resolve request names, with the commit's view when the
    /// store has listed it. For a revision the store lacks (pull-through), the listing gets
    /// `pullThroughListWait`; a large repo that lists for longer has the one file looked up upstream
    /// on its own, so the client hears back within its timeout.
    func locate(_ repo: RepoRef, revision: String, pathSegments: [Substring]) async throws
        -> (commit: String, path: String, entry: ManifestEntry, view: CommitView?)
    {
        if let pull = state.pull, state.policy.isAllowed(repo), state.index.commit(repo, revision: revision) == nil {
            let listing = await pull.listing(repo: repo, revision: revision, metrics: state.metrics)
            let listed: String?
            do {
                listed = try await Self.value(of: listing, waitingAtMost: state.config.pullThroughListWait)
            } catch {
                throw Self.upstreamError(error, repo: repo, revision: revision, path: nil)
            }
            if listed == nil {
                let commit: String
                do {
                    commit = try await pull.resolution(repo: repo, revision: revision).value
                } catch {
                    throw Self.upstreamError(error, repo: repo, revision: revision, path: nil)
                }
                try checkVisibility(repo)
                let path = try decodePath(pathSegments)
                let entry: ManifestEntry?
                do {
                    entry = try await pull.fetcher.entry(repo: repo, commit: commit, path: path)
                } catch {
                    throw Self.upstreamError(error, repo: repo, revision: commit, path: path)
                }
                guard let entry else { throw HubHTTPError.entryNotFound(repo, commit: commit, path: path) }
                return (commit, path, entry, nil)
            }
        }
        let commit = try await commit(repo, revision: revision)
        let path = try decodePath(pathSegments)
        let view = try await view(repo, commit)
        guard let entry = view.file(at: path) else { throw HubHTTPError.entryNotFound(repo, commit: commit, path: path) }
        return (commit, path, entry, view)
    }

    /// True when `path` is a regular file (not a link) of `size` bytes.
    static func isBlob(_ path: String, size: Int64) -> Bool { StoreIndex.isBlob(path, size: size) }

    func fileResponse(_ status: HTTPResponse.Status, headers: HTTPFields, blob: String, etag: String, size: Int64,
                      range: ClosedRange<Int64>?) async throws -> Response {
        if isHead || range == nil {
            // No Content-Length (a huge file's HEAD) must stay absent, not become `0`.
            let empty = headers[.contentLength] != nil ? ResponseBody() : ResponseBody(contentLength: nil) { try await $0.finish(nil) }
            return Response(status: status, headers: headers, body: empty)
        }
        let r = Int(range!.lowerBound)...Int(range!.upperBound)
        if r.count >= 64 << 10 {
            // Large bodies go out with sendfile (Sendfile.swift); the marker stands for the file range.
            // It is made when the body is written, so that the response can be given again.
            let job = Sendfile.Job(path: blob, start: range!.lowerBound, endExclusive: range!.upperBound + 1)
            return Response(status: status, headers: headers, body: ResponseBody(contentLength: r.count) { writer in
                let marker = Sendfile.marker(for: job)
                do {
                    try await writer.write(marker)
                } catch {
                    Sendfile.cancel(marker)
                    throw error
                }
                try await writer.finish(nil)
            })
        }
        if let bytes = await state.smallBlobs.bytes(etag: etag, size: size, path: blob),
           let slice = bytes.getSlice(at: r.lowerBound, length: r.count) {
            seen.bodyBytes = r.count
            return Response(status: status, headers: headers, body: .init(byteBuffer: slice))
        }
        seen.notReusable()   // read from the file as it is sent
        let body: ResponseBody
        do {
            body = try await state.fileIO.loadFile(path: blob, range: r, context: context, chunkLength: 2 << 20)
        } catch {
            throw HubHTTPError.notFound("blob vanished while serving")
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// How long a pulled file's first byte is waited for after the verify wait, before answering 200.
    static let firstByteWait: Duration = .seconds(2)

    /// The fetch's state once it has written its first byte or ended, or after `limit`.
    static func firstBytes(of progress: PullProgress, waitingAtMost limit: Duration) async -> PullProgress.State {
        let waiting = Task<PullProgress.State, any Error> {
            var s = progress.state
            while s.prefix == 0 && s.outcome == nil && !Task.isCancelled { s = await progress.next(after: s.version) }
            return s
        }
        let s = (try? await value(of: waiting, waitingAtMost: limit)) ?? nil
        return s ?? progress.state
    }

    /// Sets `Content-Range` and `Content-Length` for a range request against a body of `size` and
    /// returns the status and the bytes to send (nil range: an empty body); nil for a 416.
    static func apply(_ rangeRequest: ByteRangeRequest, size: Int64, to headers: inout HTTPFields, sizeShown: Bool = true)
        -> (status: HTTPResponse.Status, range: ClosedRange<Int64>?)?
    {
        switch rangeRequest {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentLength] = "0"
            return nil
        case .partial(let r):
            headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"
            headers[.contentLength] = String(r.upperBound - r.lowerBound + 1)
            return (.partialContent, r)
        case .whole:
            if sizeShown { headers[.contentLength] = String(size) }
            return (.ok, size > 0 ? 0...(size - 1) : nil)
        }
    }
}
