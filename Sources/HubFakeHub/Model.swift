import Foundation
public import HubCore
import HubDigest

extension FakeHub {
    /// What a commit puts at a path: content and whether it is stored in LFS.
    public struct FileSpec: Sendable, Hashable, ExpressibleByStringLiteral {
        public var content: FileContent
        /// `nil`: LFS when the size is at least 10 MiB (like `huggingface_hub` uploads).
        public var lfs: Bool?

        public init(_ content: FileContent, lfs: Bool? = nil) {
            self.content = content
            self.lfs = lfs
        }

        public init(stringLiteral value: String) { self.init(.text(value)) }

        public static func text(_ text: String, lfs: Bool? = nil) -> FileSpec { .init(.text(text), lfs: lfs) }
        public static func bytes(_ bytes: [UInt8], lfs: Bool? = nil) -> FileSpec { .init(.bytes(bytes), lfs: lfs) }
        public static func pattern(seed: UInt64, size: Int64, lfs: Bool? = nil) -> FileSpec {
            .init(.pattern(seed: seed, size: size), lfs: lfs)
        }
        public static func file(path: String, lfs: Bool? = nil) -> FileSpec { .init(.file(path: path), lfs: lfs) }
    }

    /// Files at least this big are LFS unless chosen explicitly.
    public static let lfsThreshold: Int64 = 10 * 1024 * 1024

    /// A file as stored in a commit, with every hash the Hub reports for it.
    public struct StoredFile: Sendable, Hashable {
        public let path: String
        public let content: FileContent
        /// Content size in bytes.
        public let size: Int64
        public let lfs: Bool
        /// SHA-256 of the content (the LFS oid).
        public let sha256: String
        /// Git blob id as listed in the tree (`oid`): of the content, or of the pointer text for LFS files.
        public let blobID: String
        /// Size of the LFS pointer text, for LFS files.
        public let pointerSize: Int?

        /// What the Hub reports as ETag and the cache names the blob: sha256 for LFS, else the git blob id.
        public var etag: String { lfs ? sha256 : blobID }

        /// Hashes `content` (once per content; files are read at this point).
        public init(path: String, content: FileContent, lfs: Bool? = nil) throws {
            let size = try content.size()
            let isLFS = lfs ?? (size >= FakeHub.lfsThreshold)
            let hashes = try ContentHashes.compute(content, size: size, gitBlob: !isLFS)
            self.path = path
            self.content = content
            self.size = size
            self.lfs = isLFS
            self.sha256 = hashes.sha256
            if isLFS {
                let pointer = Array(ContentHasher.lfsPointer(sha256: hashes.sha256, size: size).utf8)
                self.blobID = ContentHasher.gitBlobID(of: pointer)
                self.pointerSize = pointer.count
            } else {
                self.blobID = hashes.gitSHA1!
                self.pointerSize = nil
            }
        }

        /// The same path and LFS choice with other content (used by the `changeContent` fault).
        func replacingContent(_ content: FileContent) throws -> StoredFile {
            try StoredFile(path: path, content: content, lfs: lfs)
        }

        /// The manifest entry a client should derive from the listing.
        public var manifestEntry: ManifestEntry {
            ManifestEntry(
                path: path, size: size, blobID: blobID, sha256: sha256,
                lfs: lfs ? LFSInfo(sha256: sha256, size: size, pointerSize: Int64(pointerSize ?? 0)) : nil)
        }
    }

    /// A commit: a full tree of files.
    public struct Commit: Sendable {
        public let sha: String
        public let parent: String?
        public let message: String
        public let files: [String: StoredFile]
        let sequence: Int
        /// Every directory (no trailing slash, root excluded) with a deterministic stand-in for its git tree id.
        let directoryOIDs: [String: String]

        init(sha: String, parent: String?, message: String, files: [String: StoredFile], sequence: Int) {
            self.sha = sha
            self.parent = parent
            self.message = message
            self.files = files
            self.sequence = sequence
            var lines: [String: [String]] = [:]
            for f in files.values {
                var parts = f.path.split(separator: "/").dropLast()
                while !parts.isEmpty {
                    lines[parts.joined(separator: "/"), default: []].append("\(f.path)\u{0}\(f.blobID)")
                    parts = parts.dropLast()
                }
            }
            directoryOIDs = lines.mapValues { entries in
                Digest.hex(.sha1, of: Array(("tree\n" + entries.sorted().joined(separator: "\n")).utf8))
            }
        }

        /// `YYYY-MM-DDTHH:MM:SS.000Z`, one minute per commit from 2024-01-01.
        public var date: String { FakeHub.isoDate(sequence) }
    }
}

extension FakeHub {
    static func isoDate(_ sequence: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: 1_704_067_200 + Double(sequence) * 60))
    }
}

/// One repository's mutable state.
struct RepoState: Sendable {
    var isPrivate: Bool
    var gated: Bool
    var commits: [String: FakeHub.Commit] = [:]
    var branches: [String: String] = [:]
    var tags: [String: String] = [:]
    /// `refs/pr/N`, `refs/convert/X` by full name.
    var otherRefs: [String: String] = [:]
    var createdSequence: Int

    /// Branch, tag, full ref name or commit sha -> commit.
    func resolve(_ rev: String) -> FakeHub.Commit? {
        if let sha = branches[rev] ?? tags[rev] ?? otherRefs[rev] { return commits[sha] }
        if rev.hasPrefix("refs/heads/"), let sha = branches[String(rev.dropFirst(11))] { return commits[sha] }
        if rev.hasPrefix("refs/tags/"), let sha = tags[String(rev.dropFirst(10))] { return commits[sha] }
        if Revision.isCommitSHA(rev) { return commits[rev] }
        return nil
    }
}

/// A tree entry (file or directory) as the tree and paths-info routes list it.
enum TreeEntry {
    case file(FakeHub.StoredFile)
    case directory(path: String, oid: String)

    var path: String {
        switch self {
        case .file(let f): return f.path
        case .directory(let p, _): return p
        }
    }

    var json: JSON {
        switch self {
        case .file(let f):
            var fields: [(String, JSON)] = [("type", "file"), ("oid", .string(f.blobID)), ("size", .int(f.size)), ("path", .string(f.path))]
            if f.lfs {
                fields.append(("lfs", .object([("oid", .string(f.sha256)), ("size", .int(f.size)), ("pointerSize", .int(Int64(f.pointerSize ?? 0)))])))
            }
            return .object(fields)
        case .directory(let path, let oid):
            return .object([("type", "directory"), ("oid", .string(oid)), ("size", .int(0)), ("path", .string(path))])
        }
    }
}

/// Directory listing helpers over a commit's flat file map.
extension FakeHub.Commit {
    /// Entries below `dir` ("" = root): one level, or everything (directories included) when recursive.
    /// Nil when `dir` is not a directory.
    func entries(under dir: String, recursive: Bool) -> [TreeEntry]? {
        if !dir.isEmpty && directoryOIDs[dir] == nil { return nil }
        let prefix = dir.isEmpty ? "" : dir + "/"
        func included(_ path: String) -> Bool {
            guard path.hasPrefix(prefix) else { return false }
            return recursive || !path.dropFirst(prefix.count).contains("/")
        }
        var out: [TreeEntry] = []
        for (d, oid) in directoryOIDs where included(d) { out.append(.directory(path: d, oid: oid)) }
        for f in files.values where included(f.path) { out.append(.file(f)) }
        return out.sorted { $0.path < $1.path }
    }

    /// The file or directory at `path`.
    func entry(at path: String) -> TreeEntry? {
        if let f = files[path] { return .file(f) }
        if let oid = directoryOIDs[path] { return .directory(path: path, oid: oid) }
        return nil
    }
}

/// A minimal JSON value with ordered object keys, serialized compactly.
indirect enum JSON: ExpressibleByStringLiteral, Sendable {
    case string(String), int(Int64), bool(Bool), null
    case array([JSON])
    case object([(String, JSON)])

    init(stringLiteral value: String) { self = .string(value) }

    var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    var bytes: [UInt8] { Array(text.utf8) }

    func write(to out: inout String) {
        switch self {
        case .string(let s): JSON.writeString(s, to: &out)
        case .int(let i): out += String(i)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (i, (k, v)) in fields.enumerated() {
                if i > 0 { out += "," }
                JSON.writeString(k, to: &out)
                out += ":"
                v.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
