public import HubCore

/// Which redirect targets hubmirror follows: only `http` and `https` URLs with a host. Anything else
/// (`file:`, `ftp:`, `gopher:`, a URL without a host) is a permanent protocol violation, never retried.
public enum RedirectPolicy {
    /// The schemes a redirect may lead to (libcurl is limited to the same ones).
    public static let allowedSchemes: Set<String> = ["http", "https"]

    /// Throws unless `target` may be followed. `what` names the file or request in the message.
    public static func check(_ target: String, from source: String, what: String) throws(HubError) {
        if let o = Origin(url: target), allowedSchemes.contains(o.scheme) { return }
        let scheme = target.split(separator: ":", maxSplits: 1).first.map(String.init) ?? target
        throw HubError(.protocolViolation,
                       "\(what): \(Redact.url(source)) redirected to a disallowed URL '\(Redact.url(target))' (scheme '\(scheme)'; only http and https are followed)",
                       retryable: false)
    }
}
