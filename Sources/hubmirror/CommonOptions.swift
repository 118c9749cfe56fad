import ArgumentParser
import Foundation
import HubCore
import HubStore
import HubSync
import HubTransfer

/// Which repo and which files: `REPO[@REV]`, `--revision`, `--type`, `--include`, `--exclude`.
struct RepoSelection: ParsableArguments {
    @Argument(help: "Repository id, `name` or `namespace/name`, optionally `@REVISION`.")
    var repo: String

    @Option(name: .long, help: "Branch, tag, full commit sha or refs/pr/N (default: main).")
    var revision: String?

    @Option(name: .long, help: "Repository type: model, dataset or space.")
    var type: String = "model"

    @Option(name: .long, help: "Only files matching this glob (repeatable; `*` crosses `/`).")
    var include: [String] = []

    @Option(name: .long, help: "Skip files matching this glob (repeatable).")
    var exclude: [String] = []

    func resolved() throws -> (RepoRef, String, PathFilter) {
        guard let t = RepoType(parsing: type) else {
            throw HubError(.usage, "--type must be model, dataset or space, not '\(type)'")
        }
        var idText = repo
        var rev = revision
        if let at = repo.firstIndex(of: "@") {
            idText = String(repo[..<at])
            let r = String(repo[repo.index(after: at)...])
            if let rev, rev != r { throw HubError(.usage, "revision given twice: '\(r)' in \(repo) and --revision \(rev)") }
            rev = r
        }
        let revision = rev ?? Revision.defaultBranch
        try Revision.validate(revision)
        return (RepoRef(type: t, id: try RepoID(idText)), revision, PathFilter(include: include, exclude: exclude))
    }
}

/// Where to read from and write to.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Hub endpoint (default: $HF_ENDPOINT or https://huggingface.co).")
    var endpoint: String?

    @Option(name: .long, help: "Cache directory (default: $HF_HUB_CACHE or $HF_HOME/hub).")
    var cacheDir: String?

    @Option(name: .long, help: "Write a plain folder tree here instead of the cache.")
    var localDir: String?

    @Option(name: .long, help: "Access token (default: $HF_TOKEN or the token file). Never logged.")
    var token: String?

    func location() throws -> StoreLocation {
        if cacheDir != nil && localDir != nil { throw HubError(.usage, "--cache-dir and --local-dir exclude each other") }
        if let l = localDir { return .localDir(HFEnvironment.absolute(l)) }
        return .cache(HFEnvironment.absolute(cacheDir ?? HFEnvironment.hubCache))
    }

    func endpointURL() throws -> String {
        try HFEnvironment.endpointURL(endpoint ?? HFEnvironment.endpoint, option: "--endpoint")
    }
}

/// Transfer tuning.
struct TransferFlags: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Most files downloading at once.")
    var jobs: Int = 8

    @Option(name: .long, parsing: .unconditional, help: "Most HTTP requests in flight at once, across files.")
    var connections: Int = 8

    @Option(name: .long, parsing: .unconditional, help: "Chunk size for ranged requests, e.g. 16M (default: chosen per file).")
    var chunkSize: String?

    @Option(name: .long, parsing: .unconditional, help: "Average download rate limit, e.g. 50M (bytes per second).")
    var maxRate: String?

    @Option(name: .long, parsing: .unconditional, help: "Seconds without progress before a request is retried.")
    var stallTimeout: Double = 30

    @Flag(name: .long, help: "Do not fsync files before publishing them (faster; a power loss may leave recent blobs truncated).")
    var noFsync = false

    @Flag(name: .long, help: "Write through the page cache instead of with O_DIRECT (files are then in the page cache right after the sync).")
    var bufferedWrites = false

    func options() throws -> TransferOptions {
        var o = TransferOptions()
        guard jobs >= 1, jobs <= 256 else { throw HubError(.usage, "--jobs must be between 1 and 256, not \(jobs)") }
        guard connections >= 1, connections <= 256 else { throw HubError(.usage, "--connections must be between 1 and 256, not \(connections)") }
        guard stallTimeout >= 1, stallTimeout <= 3600 else { throw HubError(.usage, "--stall-timeout must be between 1 and 3600 seconds, not \(stallTimeout)") }
        o.maxFiles = jobs
        o.connections = connections
        o.stallTimeout = stallTimeout
        o.durable = !noFsync
        o.directWrites = !bufferedWrites
        if let c = chunkSize {
            guard let v = ByteSize.parse(c), v >= 64 * 1024 else { throw HubError(.usage, "--chunk-size '\(c)' is not a size of at least 64K (e.g. 16M)") }
            o.chunkSize = v
        }
        if let r = maxRate {
            guard let v = ByteSize.parse(r), v >= 1024 else { throw HubError(.usage, "--max-rate '\(r)' is not a rate of at least 1K (e.g. 50M)") }
            o.maxRate = v
        }
        o.shouldStop = { StopFlag.shared.isSet }
        return o
    }
}

/// Which repos of which cache a store-wide command (`verify`, `gc`) works on.
struct StoreSelection: ParsableArguments {
    @Argument(help: ArgumentHelp("Repos, e.g. org/name (default: every repo of the cache).", valueName: "repo"))
    var repos: [String] = []

    @Option(name: .long, help: "Repository type of the repos named: model, dataset or space.")
    var type: String = "model"

    @Option(name: .long, help: "Cache directory (default: $HF_HUB_CACHE or $HF_HOME/hub).")
    var cacheDir: String?

    /// The cache (which must exist) and the repos named (empty: all of them).
    func resolved() throws -> (store: CacheStore, repos: [RepoRef]) {
        guard let repoType = RepoType(parsing: type) else { throw HubError(.usage, "--type must be model, dataset or space, not '\(type)'") }
        let selected = try repos.map { RepoRef(type: repoType, id: try RepoID($0)) }
        let root = HFEnvironment.absolute(cacheDir ?? HFEnvironment.hubCache)
        guard FS.isDirectory(root) else { throw HubError(.usage, "cache directory \(root) does not exist") }
        return (CacheStore(root: root), selected)
    }
}
