import ArgumentParser
import Foundation
import HubCore
import HubStore
import HubSync
import Logging

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Bring a repository at a revision into the cache (or a folder), verified and resumable.",
        discussion: """
        Compares the remote revision with what the store holds, fetches only what is missing with parallel \
        ranged requests, checks every file's SHA-256 / git blob id, and publishes the snapshot and its ref \
        only when every file is verified. A killed run continues where it stopped.
        """
    )

    @OptionGroup var selection: RepoSelection
    @OptionGroup var store: StoreOptions
    @OptionGroup var transfer: TransferFlags
    @OptionGroup(title: "Peers") var peers: PeerOptions

    @Flag(name: .long, help: "Print the plan and change nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Write newline-delimited JSON events and a final summary to stdout.")
    var json = false

    @Flag(name: .long, help: "With --local-dir: overwrite or remove files changed there since hubmirror wrote them (else the sync refuses, exit 44).")
    var force = false

    @Flag(name: .shortAndLong, help: "More log output.")
    var verbose = false

    func run() throws {
        let reporter = Reporter(json: json)
        try HubMirror.guarded {
            do {
                try sync(reporter)
            } catch let e as HubError {
                // Every failure after parsing, bad arguments included, is an `error` event with --json.
                reporter.finishBar()
                if json { reporter.emit("error", ["kind": e.kind.rawValue, "message": e.message, "exit_code": Int(e.exitCode)]) }
                throw e
            }
        }
    }

    /// The sync itself; every HubError it throws becomes the `error` event of `run()`.
    func sync(_ reporter: Reporter) throws {
        let (repo, revision, filter) = try selection.resolved()
        LoggingSetup.bootstrap(verbose: verbose, quiet: json)
        let opts = try transfer.options()
        var request = SyncRequest(repo: repo, revision: revision, filter: filter, endpoint: try store.endpointURL(),
                                  token: HFEnvironment.token(explicit: store.token), location: try store.location(), transfer: opts)
        if force, case .cache = request.location { throw HubError(.usage, "--force applies only with --local-dir (a cache is never edited by hand)") }
        request.force = force
        request.peers = try peers.endpoints()
        request.authority = try peers.authorityEndpoint()
        request.advertise = try peers.advertisedURL()
        StopFlag.shared.install()
        let syncer = Syncer(request: request, logger: Logger(label: "hubmirror.sync"))
        if dryRun {
            let (plan, _, _) = try syncer.plan()
            if json { Console.out(PlanPrinter.json(plan, revision: revision)) } else { Console.out(PlanPrinter.table(plan, revision: revision)) }
            return
        }
        let (result, plan) = try syncer.sync { reporter.handle($0) }
        reporter.finishBar()
        if let edited = result.overwritten {
            let warning = "--force overwrote or removed \(edited.count) file(s) changed since hubmirror wrote them: \(edited.joined(separator: ", "))"
            if json { reporter.emit("warning", ["message": warning, "files": edited]) } else { Console.error("warning: " + warning) }
        }
        if json {
            if let d = try? JSON.encode(result), var obj = try? JSONSerialization.jsonObject(with: Data(d)) as? [String: Any] {
                obj["event"] = "summary"
                if let out = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]) {
                    Console.out(String(decoding: out, as: UTF8.self))
                }
            }
        } else {
            let c = plan.counts
            if result.upToDate {
                Console.out("\(repo) @ \(revision) is up to date (\(result.commit)); \(result.apiRequests) API request(s), 0 bytes moved")
            } else {
                Console.out("\(repo) @ \(revision) -> \(result.commit): \(c[.added] ?? 0) added, \(c[.changed] ?? 0) changed, \(c[.deleted] ?? 0) deleted, \(c[.renamed] ?? 0) renamed, \(c[.unchanged] ?? 0) unchanged; fetched \(result.filesFetched) files, \(ByteSize.format(result.bytesReceived)) in \(String(format: "%.1f", result.seconds)) s")
            }
            for line in PlanPrinter.provenance(result) { Console.out(line) }
            if case .cache(let root) = request.location {
                Console.out("snapshot: \(CacheStore(root: root).snapshotDirectory(repo, commit: result.commit))")
            } else if case .localDir(let dir) = request.location {
                Console.out("folder: \(dir)")
            }
        }
    }
}

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what a sync would do: added, changed, deleted, renamed and unchanged files.",
        discussion: "Without --from, compares the remote revision with the store. With --from REV, compares two remote revisions."
    )

    @OptionGroup var selection: RepoSelection
    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Compare against this remote revision instead of the store.")
    var from: String?

    @Flag(name: .long, help: "Print the plan as JSON.")
    var json = false

    @Flag(name: .long, help: "List unchanged files too.")
    var all = false

    func run() throws {
        try HubMirror.guarded {
            let (repo, revision, filter) = try selection.resolved()
            LoggingSetup.bootstrap(verbose: false, quiet: json)
            let request = SyncRequest(repo: repo, revision: revision, filter: filter, endpoint: try store.endpointURL(),
                                      token: HFEnvironment.token(explicit: store.token), location: try store.location())
            let (plan, _, _) = try Syncer(request: request).plan(from: from)
            Console.out(json ? PlanPrinter.json(plan, revision: revision) : PlanPrinter.table(plan, revision: revision, showUnchanged: all))
        }
    }
}

enum LoggingSetup {
    nonisolated(unsafe) static var done = false
    static func bootstrap(verbose: Bool, quiet: Bool) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = verbose ? .debug : (quiet ? .critical : .error)
            return h
        }
    }
}
