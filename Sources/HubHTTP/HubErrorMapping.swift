import Foundation
public import HubCore

/// Turns a Hub error answer into a HubError, by `X-Error-Code` first (as the official client does),
/// then by status. The message names the repo, revision or file. The one place for this mapping:
/// API calls use `error(for:…)`, file downloads `fileError(…)`.
public enum HubErrorMapping {
    /// An error answer to a file request (`/resolve/`) from the endpoint's own origin. A bare 404 there
    /// means the file, not the repo, is missing.
    public static func fileError(status: Int, headers: HTTPHeaders, url: String, label: String) -> HubError {
        switch (status, headers["X-Error-Code"]) {
        case (404, nil), (_, "EntryNotFound"):
            return HubError(.entryNotFound, "\(label): file not found upstream (\(status))")
        case (_, "GatedRepo"):
            return HubError(.gated, "\(label): repository is gated; a token with access is needed")
        case (_, "RepoNotFound"):
            return HubError(.repoNotFound, "\(label): repository not found or not accessible")
        case (401, _), (403, _), (404, _):
            return RetryPolicy.error(forStatus: status, headers: headers, url: url, what: label)
                .map { HubError(.unauthorized, $0.message, retryable: false) }
                ?? HubError(.unauthorized, "\(label): HTTP \(status)")
        default:
            return RetryPolicy.error(forStatus: status, headers: headers, url: url, what: label)
                ?? HubError(.http, "\(label): HTTP \(status)")
        }
    }

    public static func error(for resp: HTTPResponse, repo: RepoRef, revision: String?, path: String?, what: String) -> HubError? {
        guard resp.status >= 400 else { return nil }
        let serverMessage = resp.headers["X-Error-Message"] ?? bodyMessage(resp.body)
        let detail = serverMessage.map { " (server said: \($0))" } ?? ""
        let rev = revision ?? "main"
        switch resp.headers["X-Error-Code"] {
        case "RepoNotFound":
            return HubError(.repoNotFound, "repository \(repo) not found at \(originOf(resp.url)), or it is private and the token does not grant access\(detail)")
        case "RevisionNotFound":
            return HubError(.revisionNotFound, "revision '\(rev)' not found in \(repo)\(detail)")
        case "EntryNotFound":
            return HubError(.entryNotFound, "file '\(path ?? "?")' not found in \(repo)@\(rev)\(detail)")
        case "GatedRepo":
            return HubError(.gated, "\(repo) is gated: accept its conditions on the Hub and pass a token with access (--token, HF_TOKEN or the token file)\(detail)")
        default:
            break
        }
        switch resp.status {
        case 401:
            return HubError(.unauthorized, "\(what): not authorized (401) by \(originOf(resp.url)); check the token\(detail)")
        case 403:
            if serverMessage?.contains("disabled") == true {
                return HubError(.unauthorized, "\(repo) is disabled on the Hub\(detail)")
            }
            return HubError(.unauthorized, "\(what): access forbidden (403) by \(originOf(resp.url))\(detail)")
        case 404:
            return HubError(.repoNotFound, "\(what): not found (404) at \(originOf(resp.url))\(detail)")
        default:
            return RetryPolicy.error(forStatus: resp.status, headers: resp.headers, url: resp.url, what: what)
        }
    }

    static func originOf(_ url: String) -> String { Origin(url: url)?.description ?? Redact.url(url) }

    static func bodyMessage(_ body: [UInt8]) -> String? {
        guard !body.isEmpty, body.count < 64 << 10,
              let obj = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        if let e = obj["error"] as? String { return e }
        if let e = obj["error"] as? [String] { return e.joined(separator: "; ") }
        return nil
    }
}
