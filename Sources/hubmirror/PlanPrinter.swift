import Foundation
import HubCore
import HubStore
import HubSync
import HubTransfer

/// Renders a plan as a table for people or as JSON for programs.
enum PlanPrinter {
    static func table(_ plan: Plan, revision: String, showUnchanged: Bool = false) -> String {
        var lines: [String] = []
        let from = plan.fromCommit.map { " (local: \($0.prefix(12)))" } ?? " (nothing local)"
        lines.append("\(plan.repo) @ \(revision) -> \(plan.toCommit)\(from)")
        let width = min(60, plan.items.map { $0.path.count }.max() ?? 10)
        for item in plan.items {
            let name: String
            switch item.kind {
            case .unchanged where !showUnchanged: continue
            case .renamed: name = "\(item.fromPath ?? "?") -> \(item.path)"
            default: name = item.path
            }
            let size = item.entry.map { ByteSize.format($0.size) } ?? item.previous.map { ByteSize.format($0.size) } ?? ""
            let fetch = item.fetch ? "fetch" : ""
            lines.append("  \(item.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0))  \(size.padding(toLength: 10, withPad: " ", startingAt: 0)) \(fetch)")
        }
        let c = plan.counts
        lines.append("summary: \(c[.added] ?? 0) added, \(c[.changed] ?? 0) changed, \(c[.deleted] ?? 0) deleted, \(c[.renamed] ?? 0) renamed, \(c[.unchanged] ?? 0) unchanged; \(plan.fetches.count) files, \(ByteSize.format(plan.bytesToFetch)) to fetch")
        return lines.joined(separator: "\n")
    }

    /// The plan as one JSON document.
    static func json(_ plan: Plan, revision: String) -> String {
        struct Doc: Encodable {
            var repo: String
            var type: String
            var revision: String
            var fromCommit: String?
            var toCommit: String
            var counts: [String: Int]
            var bytesToFetch: Int64
            var filesToFetch: Int
            var items: [Item]
        }
        struct Item: Encodable {
            var kind: String
            var path: String
            var fromPath: String?
            var size: Int64?
            var etag: String?
            var previousEtag: String?
            var fetch: Bool
        }
        var counts: [String: Int] = [:]
        for (k, v) in plan.counts { counts[k.rawValue] = v }
        let doc = Doc(repo: plan.repo.id.description, type: plan.repo.type.rawValue, revision: revision, fromCommit: plan.fromCommit,
                      toCommit: plan.toCommit, counts: counts, bytesToFetch: plan.bytesToFetch, filesToFetch: plan.fetches.count,
                      items: plan.items.map { Item(kind: $0.kind.rawValue, path: $0.path, fromPath: $0.fromPath, size: ($0.entry ?? $0.previous)?.size,
                                                   etag: $0.entry?.etag, previousEtag: $0.previous?.etag, fetch: $0.fetch) })
        return JSON.string(doc)
    }

    /// Where the bytes came from, when a peer or more than one source sent any, and every source that failed.
    static func provenance(_ r: SyncResult) -> [String] {
        provenance(bytesBySource: r.bytesBySource, strikes: r.strikes, unusable: r.unusableSources)
    }

    /// The provenance lines of a sync, a mirror entry or a replicated repo; `always` lists the bytes
    /// by source even when they all came from the upstream.
    static func provenance(bytesBySource: [String: Int64]?, strikes: [SourceStrike]?, unusable: [String: String]?, always: Bool = false) -> [String] {
        var lines: [String] = []
        if let by = bytesBySource, !by.isEmpty, always || by.count > 1 || by.keys.contains(where: { !$0.hasPrefix("upstream") }) {
            lines.append("bytes by source: " + by.sorted { $0.key < $1.key }.map { "\($0.key) \(ByteSize.format($0.value))" }.joined(separator: ", "))
        }
        for s in strikes ?? [] { lines.append("struck \(s.source) for \(s.label): \(s.reason)") }
        for (s, why) in (unusable ?? [:]).sorted(by: { $0.key < $1.key }) { lines.append("not asked again: \(s) (\(why))") }
        return lines
    }
}
