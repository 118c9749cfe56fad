import ArgumentParser
import Foundation
import HubCore
import HubMaintenance
import HubStore

/// `hubmirror gc`: free what nothing kept needs any more.
struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove snapshots no ref names (beyond a number kept), blobs nothing uses, and stale leftovers.",
        discussion: """
        A blob is removed only when no kept snapshot links to it and no kept commit's manifest lists it. \
        Snapshots a ref names are always kept; others are kept unless --keep-unreferenced limits them. \
        Anything modified within --grace stays. Each repo is worked on under its lock; a repo whose sync is \
        running is skipped (exit 50).
        """
    )

    @OptionGroup var selection: StoreSelection

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Keep at most this many snapshots that no ref names, newest first (default: keep all).", valueName: "n"))
    var keepUnreferenced: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Leave anything modified in the last this many seconds.", valueName: "seconds"))
    var grace: Double = 3600

    @Flag(name: .long, help: "Show what would be removed and remove nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Print one JSON report to stdout.")
    var json = false

    func run() throws {
        try HubMirror.guarded {
            if let k = keepUnreferenced, k < 0 { throw HubError(.usage, "--keep-unreferenced must be 0 or more, not \(k)") }
            if grace < 0 { throw HubError(.usage, "--grace must be 0 or more seconds, not \(grace)") }
            let (store, selected) = try selection.resolved()
            let gc = GarbageCollector(store: store, keepUnreferenced: keepUnreferenced, grace: grace, dryRun: dryRun)
            let report = try gc.collect(selected)
            if json {
                if let d = try? JSON.encode(report) { Console.out(String(decoding: d, as: UTF8.self)) }
            } else {
                let verb = dryRun ? "would remove" : "removed"
                for r in report.repos {
                    if let why = r.skipped { Console.out("skipped \(r.type)s/\(r.repo): \(why)"); continue }
                    if r.halfRepo { Console.out("\(verb) \(r.type)s/\(r.repo) (no snapshot, no ref: leftovers of a sync that published nothing)") }
                    for c in r.snapshots { Console.out("\(verb) \(r.type)s/\(r.repo) snapshots/\(c)") }
                    for b in r.blobs { Console.out("\(verb) \(r.type)s/\(r.repo) blobs/\(b)") }
                    for l in r.leftovers { Console.out("\(verb) \(r.type)s/\(r.repo) \(l)") }
                }
                Console.out("\(dryRun ? "would free" : "freed") \(ByteSize.format(report.bytes)) in \(report.repos.count) repos")
            }
            let skipped = report.repos.filter { $0.skipped != nil }
            if !skipped.isEmpty {
                throw HubError(.lockHeld, "\(skipped.count) repo(s) skipped because a sync holds their lock: \(skipped.map(\.repo).joined(separator: ", "))")
            }
        }
    }
}
