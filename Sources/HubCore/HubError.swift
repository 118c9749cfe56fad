/// Every failure hubmirror reports: what failed, a message naming the repo, file or option,
/// whether a retry can help, and the process exit code it maps to.
public struct HubError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of thing went wrong. New kinds may be added.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case usage                 // bad option or argument
        case config                // bad config file
        case repoNotFound          // RepoNotFound
        case revisionNotFound      // RevisionNotFound
        case entryNotFound         // EntryNotFound
        case gated                 // GatedRepo
        case unauthorized          // 401/403 without a Hub error code, bad token
        case rateLimited           // 429 retries exhausted
        case network               // connect / reset / timeout, retries exhausted
        case http                  // unexpected HTTP status
        case protocolViolation     // malformed answer: bad JSON, missing headers, relative Link
        case verification          // digest or size mismatch after retries
        case upstreamChanged       // file changed between listing and download
        case unsafePath            // remote path could escape the store
        case diskFull              // ENOSPC
        case readOnly              // EROFS / EACCES on the store
        case store                 // other local I/O failure
        case listen                // serve cannot listen on its address (in use, not permitted, not local)
        case localEdits            // --local-dir: a file was changed since it was written there; --force overwrites
        case lockHeld              // another run holds the lock
        case partial               // some repos failed, others succeeded
        case damaged               // verify found corrupt, missing or misplaced content in the store
        case failed                // every repository of a multi-repo run failed
        case interrupted           // SIGINT / SIGTERM
    }

    public let kind: Kind
    public let message: String
    /// True when trying the same operation again later may succeed.
    public let isRetryable: Bool
    /// Seconds the server asked us to wait (429 / 503 `Retry-After`).
    public let retryAfter: Double?

    public init(_ kind: Kind, _ message: String, retryable: Bool? = nil, retryAfter: Double? = nil) {
        self.kind = kind
        self.message = message
        self.isRetryable = retryable ?? kind.defaultRetryable
        self.retryAfter = retryAfter
    }

    public var description: String { message }

    /// The documented process exit code for this kind (see Docs/exit-codes.md).
    public var exitCode: Int32 { kind.exitCode }
}

extension HubError.Kind {
    var defaultRetryable: Bool {
        switch self {
        case .network, .rateLimited, .http, .verification, .upstreamChanged: return true
        default: return false
        }
    }

    /// Exit codes: stable, documented, distinct per kind of failure.
    public var exitCode: Int32 {
        switch self {
        case .usage: return 64
        case .config: return 3
        case .repoNotFound: return 10
        case .revisionNotFound: return 11
        case .entryNotFound: return 12
        case .gated: return 13
        case .unauthorized: return 14
        case .rateLimited: return 20
        case .network: return 21
        case .http: return 22
        case .protocolViolation: return 23
        case .verification: return 30
        case .upstreamChanged: return 31
        case .unsafePath: return 32
        case .diskFull: return 40
        case .readOnly: return 41
        case .store: return 42
        case .listen: return 43
        case .localEdits: return 44
        case .lockHeld: return 50
        case .partial: return 51
        case .damaged: return 33
        case .failed: return 52
        case .interrupted: return 130
        }
    }
}
