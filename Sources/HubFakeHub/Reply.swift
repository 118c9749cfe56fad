import HubCore

/// A response before faults that cut or slow the body are applied.
struct Reply {
    enum Body {
        case empty
        case data([UInt8])
        case content(FakeHub.FileContent, start: Int64, length: Int64)

        var length: Int64 {
            switch self {
            case .empty: return 0
            case .data(let d): return Int64(d.count)
            case .content(_, _, let n): return n
            }
        }
    }

    var status: Int
    var headers: [(String, String)] = []
    var body: Body = .empty

    static func json(_ value: JSON, status: Int = 200, headers: [(String, String)] = []) -> Reply {
        Reply(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers, body: .data(value.bytes))
    }

    /// A Hub error: JSON `{"error": ...}` plus `X-Error-Code` / `X-Error-Message` (§4.6).
    static func error(_ status: Int, code: String?, _ message: String, commit: String? = nil) -> Reply {
        var headers: [(String, String)] = [("X-Error-Message", message)]
        if let code { headers.append(("X-Error-Code", code)) }
        if let commit { headers.append(("X-Repo-Commit", commit)) }
        return json(.object([("error", .string(message))]), status: status, headers: headers)
    }

    static func repoNotFound() -> Reply {
        error(401, code: "RepoNotFound", "Repository Not Found. Please make sure you specified the correct repo id and are authenticated.")
    }

    static let expired = Reply(
        status: 403, headers: [("Content-Type", "application/xml")],
        body: .data(Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>".utf8)))
}
