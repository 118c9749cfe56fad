import Foundation
public import HubCore
import TOMLKit

/// The config file of `hubmirror mirror` (TOML; Docs/mirror.md). Unknown keys and values of the
/// wrong type are errors that name the file, the line and the key.
public struct MirrorConfig: Sendable, Equatable {
    /// One `[[repo]]` table.
    public struct Repo: Sendable, Equatable {
        public var repo: RepoRef
        /// Branches, tags, commits or `refs/pr/N` to keep current (default: `main`).
        public var revisions: [String]
        public var filter: PathFilter
        /// Line of the table's header in the file.
        public var line: Int
        /// Peers for this repo, instead of the global `peers` (nil: the global ones).
        public var peers: [String]? = nil
    }

    public var cacheDir: String?
    public var endpoint: String?
    public var tokenFile: String?
    /// Other mirrors to take bytes from before the endpoint (`--peer`), and the file of their token.
    public var peers: [String] = []
    public var peerTokenFile: String?
    /// Per-peer token files from `[[peer]]` tables (peer URL → file), used instead of `peer_token_file`.
    public var peerTokenFiles: [String: String] = [:]
    /// This mirror's own serve URL as its peers name it (`sync --advertise`): a fleet started together splits the upstream fetches.
    public var advertise: String?
    /// Run lock and run reports (default: `hubmirror/` beside the cache folder).
    public var stateDir: String?
    public var connections: Int?
    public var jobs: Int?
    public var chunkSize: Int64?
    public var maxRate: Int64?
    public var stallTimeout: Double?
    public var fsync = true
    /// `[retention]`: after the run, keep at most this many snapshots no ref names, per repo (nil: no gc).
    public var keepUnreferenced: Int?
    public var grace: Double = 3600
    public var repos: [Repo] = []
    /// The config file and the lines of its top-level keys, for messages about their values.
    public var file = ""
    public var keyLines: [String: Int] = [:]

    public init() {}

    /// `file:line` of a top-level key (line 1 when the key is absent), for messages.
    public func location(of key: String) -> String { "\(file):\(keyLines[key] ?? 1)" }

    static let topKeys: Set<String> = ["cache_dir", "endpoint", "token_file", "state_dir", "connections", "jobs", "chunk_size",
                                       "max_rate", "stall_timeout", "fsync", "retention", "repo", "peers", "peer_token_file", "advertise", "peer"]
    static let retentionKeys: Set<String> = ["keep_unreferenced", "grace"]
    static let repoKeys: Set<String> = ["id", "type", "revisions", "include", "exclude", "peers"]
    static let peerKeys: Set<String> = ["url", "token_file"]

    public static func load(file: String) throws -> MirrorConfig {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw HubError(.config, "cannot read config file \(file)")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: file)
    }

    public static func parse(_ text: String, file: String) throws -> MirrorConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw HubError(.config, "\(file):\(e.source.begin.line): \(e.description)")
        }
        let lines = KeyLines(text)
        var c = MirrorConfig()
        c.file = file
        for key in table.keys { if let n = lines.line(of: key, in: "") { c.keyLines[key] = n } }
        func fail(_ section: String, _ key: String?, _ what: String) -> HubError {
            let line = key.flatMap { lines.line(of: $0, in: section) } ?? lines.header(section) ?? 1
            return HubError(.config, "\(file):\(line): \(what)")
        }
        func check(_ t: TOMLTable, allowed: Set<String>, section: String, name: String) throws {
            for key in t.keys.sorted() where !allowed.contains(key) {
                throw fail(section, key, "unknown key '\(key)' in \(name) (known: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        func string(_ t: TOMLTable, _ key: String, _ section: String) throws -> String? {
            guard let v = t[key] else { return nil }
            guard let s = v.string else { throw fail(section, key, "'\(key)' must be a string") }
            return s
        }
        // The same ranges as the command-line options of the same names.
        func int(_ t: TOMLTable, _ key: String, _ section: String, min: Int, max: Int = Int.max) throws -> Int? {
            guard let v = t[key] else { return nil }
            guard let i = v.int, i >= min, i <= max else {
                throw fail(section, key, "'\(key)' must be an integer " + (max == Int.max ? "of at least \(min)" : "between \(min) and \(max)"))
            }
            return i
        }
        func seconds(_ t: TOMLTable, _ key: String, _ section: String, min: Double = 0, max: Double = .infinity) throws -> Double? {
            guard let v = t[key] else { return nil }
            guard let d = v.double ?? v.int.map(Double.init), d >= min, d <= max else {
                throw fail(section, key, "'\(key)' must be a number of seconds" + (max.isFinite ? " between \(Int(min)) and \(Int(max))" : " of at least \(Int(min))"))
            }
            return d
        }
        func size(_ t: TOMLTable, _ key: String, _ section: String, min: Int64, example: String) throws -> Int64? {
            guard let v = t[key] else { return nil }
            guard let n = v.string.flatMap(ByteSize.parse) ?? v.int.map(Int64.init), n >= min else {
                throw fail(section, key, "'\(key)' must be a size of at least \(ByteSize.format(min)) such as \"\(example)\", or a number of bytes")
            }
            return n
        }
        func path(_ t: TOMLTable, _ key: String, _ section: String) throws -> String? {
            guard let p = try string(t, key, section) else { return nil }
            if p.isEmpty { throw fail(section, key, "'\(key)' is empty") }
            return p
        }
        func strings(_ t: TOMLTable, _ key: String, _ section: String) throws -> [String]? {
            guard let v = t[key] else { return nil }
            guard let a = v.array else { throw fail(section, key, "'\(key)' must be an array of strings") }
            var out: [String] = []
            for item in a {
                guard let s = item.string else { throw fail(section, key, "'\(key)' must be an array of strings") }
                out.append(s)
            }
            return out
        }

        try check(table, allowed: topKeys, section: "", name: "the top level")
        c.cacheDir = try path(table, "cache_dir", "")
        /// `text` without trailing slashes if it is an http(s) URL with a host, else nil.
        func httpURL(_ text: String) -> String? {
            var url = text
            while url.hasSuffix("/") { url.removeLast() }
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), URLComponents(string: url)?.host?.isEmpty == false else { return nil }
            return url
        }
        if let e = try string(table, "endpoint", "") {
            guard let url = httpURL(e) else { throw fail("", "endpoint", "'endpoint' must be an http(s) URL, not '\(e)'") }
            c.endpoint = url
        }
        c.tokenFile = try path(table, "token_file", "")
        func peerURLs(_ t: TOMLTable, _ section: String) throws -> [String]? {
            try strings(t, "peers", section)?.map { p in
                guard let url = httpURL(p) else { throw fail(section, "peers", "'peers' must list http(s) URLs, not '\(p)'") }
                return url
            }
        }
        c.peers = try peerURLs(table, "") ?? []
        c.peerTokenFile = try path(table, "peer_token_file", "")
        if let v = table["peer"] {
            // [[peer]] url = …, token_file = …: a peer of every repo (like `peers`) with its own token.
            guard let array = v.array else { throw fail("", "peer", "'peer' must be an array of tables: [[peer]]") }
            for (i, item) in array.enumerated() {
                let section = "peer#\(i)"
                guard let t = item.table else { throw fail("", "peer", "'peer' must be an array of tables: [[peer]]") }
                try check(t, allowed: peerKeys, section: section, name: "[[peer]] number \(i + 1)")
                guard let u = try string(t, "url", section) else { throw fail(section, nil, "[[peer]] number \(i + 1) has no url") }
                guard let url = httpURL(u) else { throw fail(section, "url", "a [[peer]] url must be an http(s) URL, not '\(u)'") }
                if !c.peers.contains(url) { c.peers.append(url) }
                if let file = try path(t, "token_file", section) { c.peerTokenFiles[url] = file }
            }
        }
        if let a = try string(table, "advertise", "") {
            guard let url = httpURL(a) else { throw fail("", "advertise", "'advertise' must be this mirror's http(s) serve URL, not '\(a)'") }
            c.advertise = url
        }
        c.stateDir = try path(table, "state_dir", "")
        c.connections = try int(table, "connections", "", min: 1, max: 256)
        c.jobs = try int(table, "jobs", "", min: 1, max: 256)
        c.chunkSize = try size(table, "chunk_size", "", min: 64 * 1024, example: "16M")
        c.maxRate = try size(table, "max_rate", "", min: 1024, example: "50M")
        c.stallTimeout = try seconds(table, "stall_timeout", "", min: 1, max: 3600)
        if let v = table["fsync"] {
            guard let b = v.bool else { throw fail("", "fsync", "'fsync' must be true or false") }
            c.fsync = b
        }
        if let v = table["retention"] {
            guard let r = v.table else { throw fail("", "retention", "'retention' must be a table: [retention]") }
            try check(r, allowed: retentionKeys, section: "retention", name: "[retention]")
            guard let keep = try int(r, "keep_unreferenced", "retention", min: 0) else {
                throw fail("retention", nil, "[retention] needs keep_unreferenced = N (snapshots no ref names to keep per repo); "
                           + "remove the table to keep everything")
            }
            c.keepUnreferenced = keep
            c.grace = try seconds(r, "grace", "retention") ?? c.grace
        }
        guard let repoArray = table["repo"]?.array else {
            throw fail("", "repo", "no repositories: add one [[repo]] table per repository, with at least id = \"org/name\"")
        }
        var seen = Set<String>()
        for (i, item) in repoArray.enumerated() {
            let section = "repo#\(i)"
            guard let t = item.table else { throw fail("", "repo", "'repo' must be an array of tables: [[repo]]") }
            try check(t, allowed: repoKeys, section: section, name: "[[repo]] number \(i + 1)")
            guard let idText = try string(t, "id", section) else { throw fail(section, nil, "[[repo]] number \(i + 1) has no id") }
            let typeText = try string(t, "type", section) ?? "model"
            guard let type = RepoType(parsing: typeText) else { throw fail(section, "type", "type must be model, dataset or space, not '\(typeText)'") }
            let id: RepoID
            do { id = try RepoID(idText) } catch let e as HubError { throw fail(section, "id", e.message) }
            let revisions = try strings(t, "revisions", section) ?? [Revision.defaultBranch]
            if revisions.isEmpty { throw fail(section, "revisions", "'revisions' is empty") }
            for r in revisions {
                do { try Revision.validate(r) } catch let e as HubError { throw fail(section, "revisions", e.message) }
            }
            let repo = RepoRef(type: type, id: id)
            guard seen.insert(repo.description).inserted else { throw fail(section, "id", "\(repo) is listed twice") }
            c.repos.append(Repo(repo: repo, revisions: revisions,
                                filter: PathFilter(include: try strings(t, "include", section) ?? [], exclude: try strings(t, "exclude", section) ?? []),
                                line: lines.header(section) ?? 1, peers: try peerURLs(t, section)))
        }
        return c
    }
}

/// Where keys sit in the text, for messages (TOMLKit keeps no positions for valid documents).
/// Sections are `""` (top level), a `[table]` name, or `repo#N` for the N-th `[[repo]]`.
struct KeyLines {
    private var keys: [String: Int] = [:]
    private var headers: [String: Int] = [:]

    init(_ text: String) {
        var section = ""
        var arrays: [String: Int] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[[") , let end = line.range(of: "]]") {
                let name = line[line.index(line.startIndex, offsetBy: 2)..<end.lowerBound].trimmingCharacters(in: .whitespaces)
                let k = arrays[name, default: 0]
                arrays[name] = k + 1
                section = "\(name)#\(k)"
                headers[section] = n + 1
            } else if line.hasPrefix("["), let end = line.firstIndex(of: "]") {
                section = line[line.index(after: line.startIndex)..<end].trimmingCharacters(in: .whitespaces)
                headers[section] = n + 1
            } else if let eq = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = line[..<eq].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                if keys[section + "\u{0}" + key] == nil { keys[section + "\u{0}" + key] = n + 1 }
            }
        }
    }

    func line(of key: String, in section: String) -> Int? { keys[section + "\u{0}" + key] }
    func header(_ section: String) -> Int? { headers[section] }
}
