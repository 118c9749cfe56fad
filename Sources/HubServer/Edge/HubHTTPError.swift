internal import HTTPTypes
internal import HubCore
internal import Hummingbird

/// An error answered the Hub's way: a status, `X-Error-Code` (the client maps on it, not on the
/// status), `X-Error-Message`, and `{"error": "..."}` as the body.
struct HubHTTPError: Error, Sendable {
    var status: HTTPResponse.Status
    /// `RepoNotFound`, `GatedRepo`, `RevisionNotFound`, `EntryNotFound`, or nil.
    var code: String?
    var message: String
    var headers: HTTPFields = [:]

    /// The label used in the errors metric.
    var metricsCode: String { code ?? "HTTP\(status.code)" }

    static func repoNotFound(_ what: String) -> HubHTTPError {
        HubHTTPError(status: .unauthorized, code: "RepoNotFound",
                     message: "Repository Not Found for \(what). Make sure the repository id is correct, that this mirror holds it and that you are authenticated if it is private.")
    }

    static func gated(_ repo: RepoRef) -> HubHTTPError {
        HubHTTPError(status: .forbidden, code: "GatedRepo",
                     message: "Access to \(repo.type.rawValue) \(repo.id) is restricted. You must be authenticated with a token this mirror accepts to access it.")
    }

    static func revisionNotFound(_ repo: RepoRef, _ revision: String) -> HubHTTPError {
        HubHTTPError(status: .notFound, code: "RevisionNotFound", message: "Invalid rev id: \(revision) (not held for \(repo))")
    }

    static func entryNotFound(_ repo: RepoRef, commit: String, path: String) -> HubHTTPError {
        var e = HubHTTPError(status: .notFound, code: "EntryNotFound", message: "Entry not found: \(path) in \(repo) at \(commit)")
        e.headers[.xRepoCommit] = commit
        return e
    }

    static func badRequest(_ message: String) -> HubHTTPError {
        HubHTTPError(status: .badRequest, code: nil, message: message)
    }

    static func notFound(_ message: String = "Not Found") -> HubHTTPError {
        HubHTTPError(status: .notFound, code: nil, message: message)
    }

    static func methodNotAllowed(_ allow: String) -> HubHTTPError {
        var e = HubHTTPError(status: .methodNotAllowed, code: nil, message: "Method not allowed; use \(allow)")
        e.headers[.allow] = allow
        return e
    }

    func response() -> Response {
        var h = headers
        if let code { h[.xErrorCode] = code }
        h[.xErrorMessage] = Self.headerSafe(message)
        h[.contentType] = "application/json; charset=utf-8"
        var w = JSONWriter()
        w.beginObject()
        w.field("error", message)
        w.endObject()
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }

    /// Header values must be visible ASCII: anything else becomes `?`.
    static func headerSafe(_ s: String) -> String {
        String(decoding: s.utf8.map { ($0 >= 0x20 && $0 < 0x7F) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}

extension HTTPField.Name {
    static let xErrorCode = Self("X-Error-Code")!
    static let xErrorMessage = Self("X-Error-Message")!
    static let xRepoCommit = Self("X-Repo-Commit")!
    static let xLinkedEtag = Self("X-Linked-Etag")!
    static let xLinkedSize = Self("X-Linked-Size")!
    static let xRequestID = Self("X-Request-Id")!
    static let link = Self("Link")!
}
