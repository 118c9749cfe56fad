import Foundation

/// A fresh directory under the system temp folder; call `remove()` in a `defer`.
struct TempDir {
    let path: String

    init() throws {
        let p = NSTemporaryDirectory() + "/hubtransfer-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        path = (p as NSString).standardizingPath
    }

    func file(_ name: String) -> String { path + "/" + name }
    func remove() { try? FileManager.default.removeItem(atPath: path) }

    func write(_ text: String, to name: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: file(name)))
    }

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: file(name)).map { String(decoding: $0, as: UTF8.self) }
    }

    func list() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}
