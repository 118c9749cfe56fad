import ArgumentParser
import Foundation
import HubCore
import HubOperations
import HubPeer
import HubStore
import Logging

/// `hubmirror replicate --from URL`: copies what a peer mirror serves, refs and all (Docs/commands.md).
struct ReplicateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicate",
        abstract: "Copy every repository another hubmirror mirror serves (or a selection): refs, tags, PRs, snapshots, repo info.",
        discussion: """
        Reads the peer's catalog and, for each branch, tag and PR ref that is new, moved or incomplete here, syncs it with \
        the peer as the authority: every file is checked against the peer's manifest, each snapshot and ref is published \
        atomically, and nothing is asked of any endpoint. An unchanged ref costs no request at all. Refs gone from the peer \
        are kept unless --delete. Exit codes: 0 all replicated, 51 some repos failed, 52 all failed, 130 interrupted; a peer \
        that cannot be read fails with that error's code.
        """
    )

    @Option(name: .long, help: ArgumentHelp("The mirror (`hubmirror serve`) to replicate.", valueName: "url"))
    var from: String

    @Option(name: .customLong("repo"), help: ArgumentHelp("Only repos whose id matches this glob, e.g. 'acme/*' (repeatable; `*` crosses `/`).", valueName: "glob"))
    var repos: [String] = []

    @Option(name: .long, help: "Only repos of this type: model, dataset or space (default: all).")
    var type: String?

    @Option(name: .long, help: "Cache directory (default: $HF_HUB_CACHE or $HF_HOME/hub).")
    var cacheDir: String?

    @Option(name: .customLong("peer"), help: ArgumentHelp("Another mirror to take bytes from too (repeatable); --from is asked first.", valueName: "url"))
    var peers: [String] = []

    @Option(name: .customLong("peer-token"), help: ArgumentHelp("Token for --from and the peers (its --tokens). Never logged.", valueName: "token"))
    var peerToken: String?

    @Flag(name: .long, help: "Remove refs the peer no longer lists (their blobs go with `gc`). Repos absent from the catalog are never touched.")
    var delete = false

    @OptionGroup var transfer: TransferFlags

    @Flag(name: .long, help: "Print the run report as one JSON document on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "More log output.")
    var verbose = false

    func run() throws {
        try HubMirror.guarded {
            LoggingSetup.bootstrap(verbose: verbose, quiet: json)
            var type: RepoType?
            if let t = self.type {
                guard let parsed = RepoType(parsing: t) else { throw HubError(.usage, "--type must be model, dataset or space, not '\(t)'") }
                type = parsed
            }
            for g in repos {
                do { _ = try GlobPattern(validating: g) } catch let e as HubError { throw HubError(.usage, "--repo \(e.message)") }
            }
            let source = PeerEndpoint(url: try HFEnvironment.endpointURL(from, option: "--from"), token: peerToken)
            let cache = HFEnvironment.absolute(cacheDir ?? HFEnvironment.hubCache)
            StopFlag.shared.install()
            var replicator = Replicator(from: source, cacheDir: cache, selection: ReplicationSelection(globs: repos, type: type),
                                        delete: delete, transfer: try transfer.options())
            replicator.peers = try peers.map { PeerEndpoint(url: try HFEnvironment.endpointURL($0, option: "--peer"), token: peerToken) }
            let json = self.json
            let reporter = Reporter(json: false)
            let report = try replicator.run(onRepo: { r in
                guard !json else { return }
                reporter.finishBar()
                for line in ReplicationPrinter.repo(r) { Console.out(line) }
            }, onEvent: { e in if !json { reporter.handle(e) } })
            reporter.finishBar()
            if json {
                if let d = try? JSON.encode(report) { Console.out(String(decoding: d, as: UTF8.self)) }
            } else {
                for line in ReplicationPrinter.summary(report) { Console.out(line) }
            }
            if report.exitCode != 0 { throw ExitCode(report.exitCode) }
        }
    }
}

/// The text report of `replicate`.
enum ReplicationPrinter {
    /// A repo's lines: its counts, a line per ref that changed or failed, where the bytes came from.
    static func repo(_ r: ReplicationReport.Repo) -> [String] {
        let name = "\(r.type)s/\(r.id)"
        var lines: [String] = []
        if r.upToDate {
            lines.append("\(name): up to date (\(r.refs.count) ref(s)\(r.counts["kept"].map { ", \($0) gone from the peer and kept" } ?? ""))")
        } else {
            let names = [("add", "added"), ("move", "moved"), ("refill", "refilled"), ("unchanged", "unchanged"), ("kept", "kept"), ("delete", "deleted")]
            let text = names.map { "\(r.counts[$0.0] ?? 0) \($0.1)" }.joined(separator: ", ")
            let status = r.status == "ok" ? "" : r.status == "failed" ? " FAILED (exit \(r.exitCode ?? 1))" : " (interrupted)"
            lines.append("\(name):\(status) refs \(text); \(r.filesFetched) file(s), \(ByteSize.format(r.bytesReceived)) received")
        }
        for ref in r.refs where ref.action != "unchanged" || ref.status != "ok" {
            let what: String
            switch ref.action {
            case "add": what = "-> \(ref.to?.prefix(12) ?? "?")"
            case "move": what = "\(ref.from?.prefix(12) ?? "?") -> \(ref.to?.prefix(12) ?? "?")"
            case "refill": what = "\(ref.to?.prefix(12) ?? "?") (snapshot completed)"
            case "kept": what = "\(ref.from?.prefix(12) ?? "?") (gone from the peer, kept; --delete removes it)"
            case "delete": what = "\(ref.from?.prefix(12) ?? "?") (gone from the peer, removed)"
            default: what = ref.to.map { String($0.prefix(12)) } ?? ""
            }
            let status = ref.status == "ok" ? "" : ref.status == "skipped" ? " skipped (interrupted)" : " FAILED: \(ref.error ?? "")"
            let bytes = ref.bytesReceived > 0 ? " \(ByteSize.format(ref.bytesReceived))" : ""
            lines.append("  \(ref.action.padding(toLength: 9, withPad: " ", startingAt: 0)) \(ref.kind) \(ref.ref) \(what)\(bytes)\(status)")
        }
        for rejected in r.rejected ?? [] { lines.append("  refused   \(rejected)") }
        lines += PlanPrinter.provenance(bytesBySource: r.bytesBySource, strikes: r.strikes, unusable: r.unusableSources, always: true).map { "  " + $0 }
        return lines
    }

    static func summary(_ report: ReplicationReport) -> [String] {
        var lines: [String] = []
        for g in report.unmatched ?? [] { lines.append("warning: --repo '\(g)' matches no repo at \(report.from) (or one --peer-token does not grant)") }
        for i in report.invalid ?? [] { lines.append("warning: skipped \(i)") }
        if report.upToDate {
            lines.append("nothing changed: \(report.repos.count) repo(s) at \(report.from) are up to date here")
        } else {
            lines.append("\(report.succeeded) of \(report.repos.count) repo(s) replicated from \(report.from), \(report.failed) failed; \(ByteSize.format(report.bytesReceived)) received")
            lines += PlanPrinter.provenance(bytesBySource: report.bytesBySource, strikes: nil, unusable: nil, always: true)
        }
        return lines
    }
}
