internal import Foundation
internal import HubCore

/// Everything `hubmirror serve` can be told. Defaults match the command's.
public struct HubServerConfiguration: Sendable {
    /// The huggingface_hub cache folder served (`HF_HUB_CACHE` layout).
    public var cacheDirectory: String
    /// Address to bind; `127.0.0.1` by default.
    public var host: String
    /// Port to bind; 0 picks a free one (reported through `onListening`).
    public var port: Int
    /// Bearer tokens that may read private and gated repos.
    public var tokens: Set<String>
    /// Repo globs (`acme/*`, `datasets/acme/*`); empty serves every repo of the store.
    public var allow: [String]
    /// Entries per tree page.
    public var pageSize: Int
    /// Base of absolute URLs the server hands out (`Link: rel="next"`), for use behind a proxy,
    /// e.g. `https://mirror.example.com/hf`. Nil: `http://` + the request's `Host` header.
    public var publicURL: String?
    /// How often the store size gauges are refreshed.
    public var storeStatsInterval: Duration
    /// How long a HEAD on `/resolve` waits for a pull-through fetch before answering
    /// `503` + `Retry-After` (the client's HEAD timeout is 10 s).
    public var pullThroughHeadWait: Duration
    /// How long a GET of a file being pulled through waits for the whole file to be verified, so
    /// it can be served like any stored file; after that the written prefix is streamed as it grows
    /// (the last byte held back until the digest matches) so the client sees bytes within its timeout.
    public var pullThroughVerifyWait: Duration
    /// How long a request for a file of a revision the store lacks waits for the revision's full
    /// listing; after that the file alone is looked up upstream (a large repo lists for a while).
    public var pullThroughListWait: Duration
    /// How long a file whose pull-through fetch failed verification on every try (the upstream
    /// keeps sending bad bytes) is answered `502` at once instead of being fetched again; zero
    /// turns the cool-down off.
    public var pullThroughFailureCooldown: Duration
    /// Log one line per request at `info` level.
    public var accessLog: Bool
    /// Watch the store with inotify so that kept answers are given without re-reading the store while
    /// it has not changed (Docs/serve.md). On by default; `HUBMIRROR_SERVE_WATCH=0` switches it off.
    public var watchStore: Bool

    public init(
        cacheDirectory: String,
        host: String = "127.0.0.1",
        port: Int = 8080,
        tokens: Set<String> = [],
        allow: [String] = [],
        pageSize: Int = 1000,
        publicURL: String? = nil,
        storeStatsInterval: Duration = .seconds(300),
        pullThroughHeadWait: Duration = .seconds(8),
        pullThroughVerifyWait: Duration = .seconds(1),
        pullThroughListWait: Duration = .seconds(2),
        pullThroughFailureCooldown: Duration = .seconds(60),
        accessLog: Bool = true
    ) {
        self.cacheDirectory = cacheDirectory
        self.host = host
        self.port = port
        self.tokens = tokens
        self.allow = allow
        self.pageSize = pageSize
        self.publicURL = publicURL
        self.storeStatsInterval = storeStatsInterval
        self.pullThroughHeadWait = pullThroughHeadWait
        self.pullThroughVerifyWait = pullThroughVerifyWait
        self.pullThroughListWait = pullThroughListWait
        self.pullThroughFailureCooldown = pullThroughFailureCooldown
        self.accessLog = accessLog
        self.watchStore = Self.watchSetting(ProcessInfo.processInfo.environment)
    }

    /// Whether the store is watched, from the environment: on unless `HUBMIRROR_SERVE_WATCH=0`.
    static func watchSetting(_ environment: [String: String]) -> Bool {
        environment["HUBMIRROR_SERVE_WATCH"] != "0"
    }

    /// Reads a tokens file: one bearer token per line; blank lines and lines starting with `#` are skipped.
    public static func loadTokens(file: String) throws -> Set<String> {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw HubError(.usage, "cannot read tokens file \(file)")
        }
        return parseTokens(String(decoding: data, as: UTF8.self))
    }

    public static func parseTokens(_ text: String) -> Set<String> {
        var out = Set<String>()
        for line in text.split(whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            out.insert(t)
        }
        return out
    }

    /// Checks option values; throws `.usage` naming the option.
    public func validate() throws {
        if !(0...65535).contains(port) { throw HubError(.usage, "--port must be between 0 and 65535, not \(port)") }
        if pageSize < 1 { throw HubError(.usage, "--page-size must be at least 1, not \(pageSize)") }
        if host.isEmpty { throw HubError(.usage, "--host must not be empty") }
        for a in allow { try AccessPolicy.validate(allow: a) }
        if let u = publicURL {
            guard let url = URL(string: u), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil,
                  url.query == nil, url.fragment == nil else {
                throw HubError(.usage, "--public-url must be an absolute http(s) URL without query, not '\(u)'")
            }
        }
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: cacheDirectory, isDirectory: &isDir) || !isDir.boolValue {
            throw HubError(.usage, "cache directory \(cacheDirectory) does not exist or is not a directory")
        }
    }
}

/// Where the server ended up listening.
public struct HubServerAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `http://127.0.0.1:8080`, `http://[::1]:8080`.
    public var url: String { host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)" }
}
