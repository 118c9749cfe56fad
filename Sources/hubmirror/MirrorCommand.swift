import ArgumentParser
import Foundation
import HubCore
import HubMaintenance
import HubOperations
import HubStore
import HubSync
import HubTransfer
import Logging

/// `hubmirror mirror --config FILE`: one cron run over every configured repo (Docs/mirror.md).
struct MirrorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "One cron-safe run over every repository of a config file.",
        discussion: """
        Takes a run lock, syncs every [[repo]] at every revision (a failure is reported and the run goes on), \
        applies [retention], and writes a JSON report to <state_dir>/last-run.json. Exit codes: 0 all synced, \
        51 some failed, 52 all failed, 50 another run holds the lock, 3 bad config, 130 interrupted.
        """
    )

    @Option(name: .long, help: ArgumentHelp("The TOML config file.", valueName: "file"))
    var config: String

    @Flag(name: .long, help: "Only check the config and print what each repo would do; take no lock, change nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Print the run report as JSON to stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "More log output.")
    var verbose = false

    func run() throws {
        try HubMirror.guarded {
            let path = HFEnvironment.absolute(config)
            let cfg = try MirrorConfig.load(file: path)
            LoggingSetup.bootstrap(verbose: verbose, quiet: json)
            let cacheDir = HFEnvironment.absolute(cfg.cacheDir ?? HFEnvironment.hubCache)
            let endpoint = try HFEnvironment.endpointURL(cfg.endpoint ?? HFEnvironment.endpoint, option: cfg.endpoint == nil ? "HF_ENDPOINT" : "endpoint in \(path)")
            let token = try cfg.tokenFile.map {
                try HFEnvironment.token(file: $0, unreadable: "\(cfg.location(of: "token_file")): cannot read token_file \($0)")
            } ?? HFEnvironment.token(explicit: nil)
            var transfer = TransferOptions()
            if let c = cfg.connections { transfer.connections = c }
            if let j = cfg.jobs { transfer.maxFiles = j }
            transfer.chunkSize = cfg.chunkSize
            transfer.maxRate = cfg.maxRate
            if let s = cfg.stallTimeout { transfer.stallTimeout = s }
            transfer.durable = cfg.fsync
            StopFlag.shared.install()
            transfer.shouldStop = { StopFlag.shared.isSet }

            if dryRun {
                // Plans only: no lock, nothing written; a repo that cannot be planned is reported and skipped.
                var failed = 0, total = 0
                for r in cfg.repos {
                    for rev in r.revisions {
                        total += 1
                        let request = SyncRequest(repo: r.repo, revision: rev, filter: r.filter, endpoint: endpoint, token: token,
                                                  location: .cache(cacheDir), transfer: transfer)
                        do {
                            let (plan, _, _) = try Syncer(request: request).plan()
                            Console.out(json ? PlanPrinter.json(plan, revision: rev) : PlanPrinter.table(plan, revision: rev))
                        } catch let e as HubError {
                            failed += 1
                            Console.error("\(r.repo)@\(rev): \(e.message)")
                        }
                    }
                }
                if failed > 0 { throw ExitCode(failed == total ? HubError.Kind.failed.exitCode : HubError.Kind.partial.exitCode) }
                return
            }
            var runner = MirrorRunner(config: cfg, configPath: path, cacheDir: cacheDir, endpoint: endpoint, token: token, transfer: transfer)
            runner.peerToken = try cfg.peerTokenFile.map {
                try HFEnvironment.token(file: $0, unreadable: "\(cfg.location(of: "peer_token_file")): peer_token_file: cannot read \($0)")
            }
            for (url, file) in cfg.peerTokenFiles {
                runner.peerTokens[url] = try HFEnvironment.token(file: file, unreadable: "\(cfg.file): token_file of [[peer]] \(url): cannot read \(file)")
            }
            let json = self.json
            let report = try runner.run(onEntry: { e in
                guard !json else { return }
                let what = "\(e.type)s/\(e.repo)@\(e.revision)"
                if let r = e.result {
                    let moved = r.upToDate ? "up to date" : "\(r.filesFetched) file(s), \(ByteSize.format(r.bytesReceived)) received"
                    Console.out("ok      \(what) -> \(r.commit.prefix(12)): \(moved) (\(r.apiRequests) API request(s))")
                    for line in PlanPrinter.provenance(r) { Console.out("        " + line) }
                } else {
                    Console.out("FAILED  \(what) (exit \(e.exitCode ?? 1)): \(e.error ?? "")")
                }
            })
            if json {
                if let d = try? JSON.encode(report) { Console.out(String(decoding: d, as: UTF8.self)) }
            } else {
                for e in report.entries where e.status == "skipped" { Console.out("skipped \(e.type)s/\(e.repo)@\(e.revision) (interrupted)") }
                if let gc = report.gc {
                    Console.out("retention: \(gc.repos.reduce(0) { $0 + $1.snapshots.count }) snapshot(s) and \(gc.repos.reduce(0) { $0 + $1.blobs.count }) blob(s) removed, \(ByteSize.format(gc.bytes)) freed")
                }
                for line in PlanPrinter.provenance(bytesBySource: report.bytesBySource, strikes: nil, unusable: nil) { Console.out("run total " + line) }
                for (source, n) in (report.strikesBySource ?? [:]).sorted(by: { $0.key < $1.key }) {
                    Console.out("run struck \(source) \(n) time(s) (reasons above and in the report)")
                }
                Console.out("\(report.succeeded) of \(report.entries.count) synced, \(report.failed) failed; report: \(runner.stateDir)/last-run.json")
            }
            if report.exitCode != 0 { throw ExitCode(report.exitCode) }
        }
    }
}
