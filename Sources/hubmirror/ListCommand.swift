import ArgumentParser
import Foundation
import HubCore
import HubMaintenance
import HubStore

/// `hubmirror ls`: what the store holds.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List what the store holds: repos, refs, snapshots, sizes, last sync, partial downloads.",
        aliases: ["status"]
    )

    @OptionGroup var selection: StoreSelection

    @Flag(name: .long, help: "Print one JSON document to stdout.")
    var json = false

    func run() throws {
        try HubMirror.guarded {
            let (store, selected) = try selection.resolved()
            let repos = try StoreListing(store: store).summaries(selected)
            if json {
                if let d = try? JSON.encode(repos) { Console.out(String(decoding: d, as: UTF8.self)) }
                return
            }
            let date = DateFormatter()
            date.dateFormat = "yyyy-MM-dd HH:mm"
            date.timeZone = TimeZone(identifier: "UTC")
            for r in repos {
                var flags: [String] = []
                if r.isPrivate { flags.append("private") }
                if let g = r.gated { flags.append("gated (\(g))") }
                let synced = r.lastSync.map { "last sync \(date.string(from: Date(timeIntervalSince1970: $0))) UTC" } ?? "never synced by hubmirror"
                Console.out("\(r.type)s/\(r.repo)  \(ByteSize.format(r.bytes)) in \(r.blobs) blobs, \(r.snapshots.count) snapshot(s), \(synced)"
                            + (flags.isEmpty ? "" : "  [\(flags.joined(separator: ", "))]"))
                for ref in r.refs { Console.out("  \(ref.kind) \(ref.name) -> \(ref.commit)") }
                for s in r.snapshots {
                    let of = s.manifestFiles.map { " of \($0)" } ?? ""
                    Console.out("  snapshot \(s.commit): \(s.files)\(of) files")
                }
                if r.partialFiles > 0 { Console.out("  \(r.partialFiles) partial download(s), \(ByteSize.format(r.partialBytes)) written so far") }
            }
            if repos.isEmpty { Console.out("no repos in \(store.root)") }
        }
    }
}
