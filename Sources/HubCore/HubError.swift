import Foundation

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
        case bundleFormat          // a bundle is not a readable bundle: not tar, truncated, bad manifest or version
        case bundleEntry           // a bundle entry is unsafe or unexpected: `..`, absolute, link, device, duplicate, unknown
        case bundleSignature       // a bundle is unsigned, or signed by no trusted key
        case bundleIncomplete      // volumes missing, or blobs absent from both bundle and store
    }

    public let kind: Kind
    public let message: String
    /// True when trying the same operation again later may succeed.
    public let isRetryable: Bool
    /// Seconds the server asked us to wait (429 / 503 `Retry-After`).
    public let retryAfter: Double?
    /// The failure underneath this one (a system call's errno, a caught error), when there was one.
    public let cause: Cause?
    /// Where the error was made, `Module/File.swift:line`.
    public let location: String?

    /// - Parameters:
    ///   - cause: what failed underneath, e.g. `.errno(code, operation: "fsync", path: tmp)` or `Cause(error)`.
    ///   - fileID, line: filled in with the caller's position; they make `location`.
    public init(
        _ kind: Kind, _ message: String, retryable: Bool? = nil, retryAfter: Double? = nil, cause: Cause? = nil,
        fileID: StaticString = #fileID, line: UInt = #line
    ) {
        self.kind = kind
        self.message = message
        self.isRetryable = retryable ?? kind.defaultRetryable
        self.retryAfter = retryAfter
        self.cause = cause
        self.location = "\(fileID):\(line)"
    }

    /// A `kind` error whose message is `message` followed by `error`'s own text (`"\(message): \(error)"`),
    /// keeping `error` as the cause.
    public init(
        _ kind: Kind, _ message: String, wrapping error: any Error, retryable: Bool? = nil,
        fileID: StaticString = #fileID, line: UInt = #line
    ) {
        self.init(kind, "\(message): \(error)", retryable: retryable, cause: Cause(error), fileID: fileID, line: line)
    }

    /// The message alone, as every user-facing output prints it.
    public var description: String { message }

    /// The documented process exit code for this kind (see Docs/exit-codes.md).
    public var exitCode: Int32 { kind.exitCode }

    /// Equal when kind, message, retry advice and cause are; `location` is not compared (the same
    /// failure raised from two places is still the same failure).
    public static func == (a: HubError, b: HubError) -> Bool {
        a.kind == b.kind && a.message == b.message && a.isRetryable == b.isRetryable && a.retryAfter == b.retryAfter
            && a.cause == b.cause
    }
}

extension HubError {
    /// What failed underneath a `HubError`, kept as values so the error stays `Sendable` and `Equatable`:
    /// the underlying error's text and type, its errno, and the operation and path it concerned.
    public struct Cause: Sendable, Equatable, CustomStringConvertible {
        /// The underlying error's own text (`strerror`'s for an errno).
        public var description: String
        /// The underlying error's type, e.g. `CocoaError` or `HubError.network`; nil for a bare errno.
        public var type: String?
        /// The errno of a failed system call.
        public var errno: Int32?
        /// What was being done, e.g. `fsync` or `rename into`.
        public var operation: String?
        /// The file or folder concerned.
        public var path: String?
        /// Where an underlying `HubError` was made.
        public var location: String?
        // An array so the struct can hold its own type; at most one element.
        private var causes: [Cause]

        /// The cause of this cause (an underlying `HubError`'s own cause).
        public var cause: Cause? { causes.first }

        public init(
            _ description: String, type: String? = nil, errno: Int32? = nil, operation: String? = nil, path: String? = nil,
            location: String? = nil, cause: Cause? = nil
        ) {
            self.description = description
            self.type = type
            self.errno = errno
            self.operation = operation
            self.path = path
            self.location = location
            self.causes = cause.map { [$0] } ?? []
        }

        /// Any caught error: its text and type name. A `HubError` brings its kind, message, location
        /// and cause along, so chains print whole.
        public init(_ error: any Error, operation: String? = nil, path: String? = nil) {
            if let e = error as? HubError {
                self.init(e.message, type: "HubError.\(e.kind.rawValue)", operation: operation, path: path,
                          location: e.location, cause: e.cause)
            } else {
                self.init(String(describing: error), type: String(reflecting: Swift.type(of: error)),
                          operation: operation, path: path)
            }
        }

        /// A failed system call: errno and its text, the operation and the path.
        public static func errno(_ code: Int32, operation: String, path: String?) -> Cause {
            Cause(String(cString: strerror(code)), errno: code, operation: operation, path: path)
        }
    }

    /// The error as a small tree a person can read: kind and exit code, message, cause chain
    /// (operation, path, errno, type) and where each was made. For `--verbose` logs; `description`
    /// stays the one-line message.
    /// ```
    /// HubError.store (exit 42): cannot fsync /s/x.tmp: Input/output error
    /// ├─ Cause: Input/output error (errno 5)
    /// │  ├─ Operation: fsync
    /// │  └─ Path: /s/x.tmp
    /// └─ Location: HubStore/FileSystem.swift:64
    /// ```
    public var detailedDescription: String {
        var lines = ["HubError.\(kind.rawValue) (exit \(exitCode)): \(message)"]
        var children: [Node] = []
        if let cause { children.append(cause.node) }
        if let retryAfter { children.append(Node("Retry after: \(retryAfter) s")) }
        if let location { children.append(Node("Location: \(location)")) }
        Node.render(children, prefix: "", into: &lines)
        return lines.joined(separator: "\n")
    }

    /// One line of the tree with the lines below it.
    struct Node {
        var text: String
        var children: [Node] = []

        init(_ text: String, _ children: [Node] = []) {
            self.text = text
            self.children = children
        }

        static func render(_ nodes: [Node], prefix: String, into lines: inout [String]) {
            for (i, node) in nodes.enumerated() {
                let last = i == nodes.count - 1
                let more = prefix + (last ? "   " : "│  ")
                // A multi-line text (some errors describe themselves over several lines) stays in its column.
                let textLines = node.text.split(separator: "\n", omittingEmptySubsequences: false)
                lines.append(prefix + (last ? "└─ " : "├─ ") + (textLines.first.map(String.init) ?? ""))
                for line in textLines.dropFirst() { lines.append(more + (node.children.isEmpty ? "" : "│ ") + line) }
                render(node.children, prefix: more, into: &lines)
            }
        }
    }
}

extension HubError.Cause {
    var node: HubError.Node {
        var head = "Cause: "
        if let type { head += "\(type): " }
        head += description
        if let errno { head += " (errno \(errno))" }
        var children: [HubError.Node] = []
        if let operation { children.append(.init("Operation: \(operation)")) }
        if let path { children.append(.init("Path: \(path)")) }
        if let cause { children.append(cause.node) }
        if let location { children.append(.init("Location: \(location)")) }
        return HubError.Node(head, children)
    }
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
        case .bundleFormat: return 60
        case .bundleEntry: return 61
        case .bundleSignature: return 62
        case .bundleIncomplete: return 63
        }
    }
}
