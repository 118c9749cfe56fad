public import HubCore
import Foundation

/// JSON encoding shared by every file hubmirror writes: sorted keys, so files are stable and diffable.
public enum JSON {
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try enc.encode(value))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }

    public static func string<T: Encodable>(_ value: T) -> String {
        (try? encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// The official client's tree-listing cache (`trees/<sha>.json`): complete, never with `xet_hash`.
public struct TreeCacheFile: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var size: Int64
        public var blob_id: String
        public var lfs_sha256: String?
        public var lfs_size: Int64?
    }
    public var format_version: Int = 1
    public var files: [String: Entry]

    public init(manifest: Manifest) {
        var files: [String: Entry] = [:]
        for e in manifest.entries {
            files[e.path] = Entry(size: e.size, blob_id: e.blobID, lfs_sha256: e.lfs?.sha256, lfs_size: e.lfs?.size)
        }
        self.files = files
    }
}
