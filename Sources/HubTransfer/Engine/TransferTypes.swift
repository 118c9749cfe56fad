public import HubCore
public import HubHTTP

/// Tuning and limits of a transfer run.
public struct TransferOptions: Sendable {
    /// Most requests in flight at once, across all files.
    public var connections: Int = 8
    /// Most files downloading at once (each may use several connections).
    public var maxFiles: Int = 8
    /// Chunk size for ranged requests; nil picks one per file.
    public var chunkSize: Int64? = nil
    /// Average download rate limit in bytes per second.
    public var maxRate: Int64? = nil
    /// Abort a request that moves less than 1 KiB/s for this long.
    public var stallTimeout: Double = 30
    public var connectTimeout: Double = 15
    public var retry: RetryPolicy = .standard
    /// How often in-flight progress is written to the resume journals.
    public var journalInterval: Double = 0.5
    /// `fdatasync` every file before it is published (a power loss then cannot leave a published blob
    /// truncated). Off: trust the page cache, as most downloaders do.
    public var durable: Bool = true
    /// Write with O_DIRECT where the file system takes it: no copy into the page cache, so a durable
    /// sync costs little more than an undurable one, but a freshly synced file is not in the page cache
    /// when it is first read. Off (or where the file system refuses it): writes through the page cache.
    public var directWrites: Bool = true
    /// Bytes of each file held in memory between receiving and storing: the hasher reads them there,
    /// and requests that would run further ahead wait. Larger for jobs with chunk digests to check
    /// (two chunks), never larger than the file.
    public var windowBytes: Int64 = 8 << 20
    /// Hashed bytes go to the disk in writes of this size.
    public var writeSize: Int64 = 2 << 20
    /// Most bytes one ranged request asks for (a quarter of the window unless set).
    public var requestSize: Int64? = nil
    /// How far past its window a file's requests may reach when they start (nil: one window). Their
    /// bytes beyond the window wait in the connection (curl paused, TCP holding back the server) and
    /// flow the moment the window moves on, instead of a new request being sent only then.
    public var windowAhead: Int64? = nil
    /// curl's receive buffer per connection: the most bytes one socket read takes, and the most curl
    /// keeps aside for a request paused at its window's end.
    public var receiveBuffer: Int = 64 << 10
    /// Hash two files' bytes at once on one thread where the CPU has the SHA extensions (the SHA-256
    /// of two files side by side costs little more than of one); off: a hashing thread per file.
    public var pairedHashing: Bool = true
    /// How long, and up to how many bytes (at most half the window), one file's bytes wait for the
    /// other's to be hashed beside them.
    public var pairHoldSeconds: Double = HashGroup.Hold().seconds
    public var pairHoldBytes: Int64 = HashGroup.Hold().bytes
    /// How many times a file whose digest did not match is fetched again.
    public var corruptionRetries: Int = 2
    /// Compute the SHA-256 of every chunk of this size while hashing (for peers); nil: only the
    /// file's digests. Chunks a job's expected digests name are always checked.
    public var chunkDigestSize: Int64? = nil
    /// This mirror's name in a fleet of mirrors started together (`--advertise`): chunks no peer
    /// holds are fetched from the upstream only by their rendezvous owner (Rendezvous.swift).
    public var fleet: Fleet? = nil
    /// A source struck this many times (for any files) is not asked again in the run.
    public var strikesBeforeUnusable: Int = 3
    /// Shared with other runs (pull-through fetches of one server): the most requests in flight in all.
    public var budget: ConnectionBudget? = nil
    /// Polled by the engine; when true it stops, keeping partial data and journals.
    public var shouldStop: @Sendable () -> Bool = { false }

    public init() {}

    /// These options with the tuning in `spec` applied, for benchmarks: comma-separated `key=value`
    /// with keys `window`, `ahead`, `write`, `request`, `recv`, `hold` (sizes such as `8M`), `holdms` (milliseconds),
    /// `direct` and `pair` (`0` or `1`), as read
    /// from `HUBMIRROR_TUNING`. Unknown keys and bad values are ignored.
    public func tuned(_ spec: String?) -> TransferOptions {
        var o = self
        for item in (spec ?? "").split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { continue }
            let size = ByteSize.parse(kv[1])
            switch kv[0] {
            case "window": if let v = size, v >= 1 << 16 { o.windowBytes = v }
            case "write": if let v = size, v >= 4096 { o.writeSize = v }
            case "request": if let v = size, v >= 4096 { o.requestSize = v }
            case "recv": if let v = size, v >= 16 << 10 { o.receiveBuffer = Int(min(v, 10 << 20)) }
            case "direct": o.directWrites = kv[1] != "0"
            case "pair": o.pairedHashing = kv[1] != "0"
            case "holdms": if let v = Double(kv[1]), v >= 0 { o.pairHoldSeconds = v / 1000 }
            case "hold": if let v = size, v >= 0 { o.pairHoldBytes = v }
            case "ahead": if let v = size, v >= 0 { o.windowAhead = v }
            default: continue
            }
        }
        return o
    }
}

/// One content to fetch: its manifest entry and where its bytes may come from.
public struct FileJob: Sendable {
    public var entry: ManifestEntry
    /// In order of preference.
    public var sources: [any ContentSource]
    /// Names the file in messages, e.g. `acme/tiny:model.bin`.
    public var label: String

    public init(entry: ManifestEntry, sources: [any ContentSource], label: String) {
        self.entry = entry
        self.sources = sources
        self.label = label
    }
}

/// Things worth telling a user or a test while a transfer runs.
public enum TransferEvent: Sendable {
    case fileStarted(label: String, size: Int64, resumedBytes: Int64)
    /// Bytes received this run and bytes still to receive, across all files.
    case progress(received: Int64, total: Int64)
    /// Ranges of a file now recorded in its journal (a `kill -9` after this loses none of them).
    case journaled(label: String, bytes: Int64)
    /// The contiguous prefix of a file that is written and read back for hashing now ends at `bytes`
    /// (not yet verified: the digest is known only at the end).
    case prefixWritten(label: String, bytes: Int64)
    case retrying(label: String, message: String, delay: Double)
    case corrupted(label: String, source: String, attempt: Int)
    case fileVerified(label: String, sha256: String)
    case fileFailed(label: String, error: HubError)
}

/// The verified digests of a fetched file.
public struct FetchedFile: Sendable {
    public var entry: ManifestEntry
    public var sha256: String
}

/// A source that failed for a file: which, for which file, why.
public struct SourceStrike: Codable, Sendable, Equatable {
    public var source: String
    public var label: String
    public var reason: String
}

/// The outcome of a run: verified files, failures by file, bytes moved, and what went wrong with
/// which source.
public struct TransferReport: Sendable {
    public var fetched: [FetchedFile] = []
    public var failures: [(label: String, error: HubError)] = []
    public var bytesReceived: Int64 = 0
    /// Bytes received per source id.
    public var bytesBySource: [String: Int64] = [:]
    public var resumedBytes: Int64 = 0
    public var strikes: [SourceStrike] = []
    /// Sources not asked again in this run, with the last reason.
    public var unusableSources: [String: String] = [:]
    public var interrupted = false

    public init() {}
}
