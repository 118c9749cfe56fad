import ArgumentParser
import HubBundle
import HubCore
import HubStore

/// `hubmirror state`: what this store holds, for `export --since` on the other side.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Write what the store holds (repos, refs, commits, blobs) for an incremental `export --since`."
    )

    @Option(name: .long, help: "Cache directory (default: $HF_HUB_CACHE or $HF_HOME/hub).")
    var cacheDir: String?

    @Option(name: .long, help: "State file to write.")
    var out: String

    func run() throws {
        try HubMirror.guarded {
            let root = HFEnvironment.absolute(cacheDir ?? HFEnvironment.hubCache)
            guard FS.isDirectory(root) else { throw HubError(.usage, "cache directory \(root) does not exist") }
            let state = StoreState.read(CacheStore(root: root))
            try FS.writeAtomically(try JSON.encode(state), to: HFEnvironment.absolute(out))
            Console.out("wrote \(out): \(state.repos.count) repo(s), \(state.repos.reduce(0) { $0 + $1.commits.count }) commit(s), \(state.blobs.count) blob(s)")
        }
    }
}
