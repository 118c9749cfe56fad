import ArgumentParser
import Foundation
import HubCore
import HubMaintenance
import HubStore
import Logging

/// `hubmirror verify`: re-hash the store and check its links; `--repair` fetches damaged content again.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash the store and check every snapshot link; optionally repair what is damaged.",
        discussion: """
        Every blob is hashed again and compared with the digest its name promises (SHA-256, or the git blob id \
        for regular files) and the size its manifests give; every snapshot entry must link to a blob of its \
        repo, the one its commit's manifest names. Exits 0 when all is well, 33 when something is damaged \
        (and not repaired). With --repair, damaged blobs move to <repo>/.hubmirror/quarantine/ and the \
        content is fetched again, verified, from the endpoint the repo was synced from (or --endpoint).
        """
    )

    @OptionGroup var selection: StoreSelection

    @Flag(name: .long, help: "Fetch damaged or missing content again and relink it.")
    var repair = false

    @Option(name: .long, help: "Endpoint to repair from (default: the one recorded at sync time).")
    var endpoint: String?

    @Option(name: .long, help: "Access token for --repair (default: $HF_TOKEN or the token file). Never logged.")
    var token: String?

    @OptionGroup(title: "Transfers (with --repair)")
    var transfer: TransferFlags

    @Flag(name: .long, help: "Print one JSON report to stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "More log output.")
    var verbose = false

    func run() throws {
        try HubMirror.guarded {
            let (store, selected) = try selection.resolved()
            let opts = try transfer.options()
            LoggingSetup.bootstrap(verbose: verbose, quiet: json)
            var report = try StoreVerifier(store: store).verify(selected)
            if repair && !report.isHealthy {
                StopFlag.shared.install()
                let from = try endpoint.map { try HFEnvironment.endpointURL($0, option: "--endpoint") }
                let repairer = StoreRepairer(store: store, endpoint: from, token: HFEnvironment.token(explicit: token), transfer: opts)
                let reporter = Reporter(json: false)
                try repairer.repair(&report) { if !json { reporter.handle($0) } }
                reporter.finishBar()
            }
            print(report)
            if !report.isHealthy {
                throw HubError(.damaged, "\(report.unrepaired) problem(s) in the store \(store.root)\(repair ? " could not be repaired" : "; run with --repair to fetch the content again")")
            }
        }
    }

    func print(_ report: VerifyReport) {
        if json {
            if let d = try? JSON.encode(report) { Console.out(String(decoding: d, as: UTF8.self)) }
            return
        }
        for r in report.repos {
            for f in r.findings {
                let paths = f.paths.isEmpty ? "no snapshot links to it" : f.paths.prefix(3).joined(separator: ", ") + (f.paths.count > 3 ? ", …" : "")
                let what = f.etag.map { "blobs/\($0)" } ?? "snapshot entry"
                Console.out("\(f.repaired ? "repaired" : f.kind.rawValue) \(r.type)s/\(r.repo) \(what) (\(paths)): \(f.detail)")
            }
        }
        let healthy = report.repos.filter(\.isHealthy).count
        Console.out("checked \(report.blobsChecked) blobs (\(ByteSize.format(report.bytesChecked))) in \(report.repos.count) repos "
                    + "in \(String(format: "%.1f", report.seconds)) s: \(healthy) healthy, \(report.findings) problem(s), \(report.unrepaired) left")
    }
}
