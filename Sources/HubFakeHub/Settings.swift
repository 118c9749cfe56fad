import HubCore

extension FakeHub {
    // MARK: Addresses

    /// `http://127.0.0.1:PORT`
    public var endpoint: String { state.withLock { "http://\($0.hubHost):\($0.hubPort)" } }
    public var port: Int { state.withLock { $0.hubPort } }
    /// `http://127.0.0.2:PORT`, nil when started without a CDN.
    public var cdnEndpoint: String? {
        state.withLock { s in s.cdnPort.map { "http://\(s.cdnHost):\($0)" } }
    }

    // MARK: Settings

    /// Tokens accepted in `Authorization: Bearer <token>` for private and gated repos.
    public var validTokens: Set<String> {
        get { state.withLock { $0.validTokens } }
        set { state.withLock { $0.validTokens = newValue } }
    }

    /// When true, a request whose bearer token is not valid gets 401 `Invalid credentials in
    /// Authorization header` even for public repos (as huggingface.co does). Default false.
    public var rejectInvalidTokens: Bool {
        get { state.withLock { $0.rejectInvalidTokens } }
        set { state.withLock { $0.rejectInvalidTokens = newValue } }
    }

    /// Entries per tree/commits page (default 1000, as HF).
    public var pageSize: Int {
        get { state.withLock { $0.pageSize } }
        set { state.withLock { $0.pageSize = max(1, newValue) } }
    }

    /// Mimic huggingface.co: regular files 307 to a relative `/api/resolve-cache/...`, LFS files 302 to the
    /// CDN server with Xet headers. Default false: `/resolve` answers 200 with the bytes.
    public var liveHubStyle: Bool {
        get { state.withLock { $0.liveHubStyle } }
        set { state.withLock { $0.liveHubStyle = newValue } }
    }

    /// When set, LFS resolves 302 to `{cdnBase}/{type}s/{repo}/{path}` (e.g. an nginx over the same files).
    public var cdnBase: String? {
        get { state.withLock { $0.cdnBase } }
        set { state.withLock { $0.cdnBase = newValue.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } } }
    }

    /// Answer every ranged request with 200 and the whole body.
    public var ignoreRangeAlways: Bool {
        get { state.withLock { $0.ignoreRangeAlways } }
        set { state.withLock { $0.ignoreRangeAlways = newValue } }
    }

    /// Lifetime in seconds of signed CDN URLs (default 3600; zero or less makes them expire at once).
    public var signedURLLifetime: Int {
        get { state.withLock { $0.signedURLLifetime } }
        set { state.withLock { $0.signedURLLifetime = newValue } }
    }
}
