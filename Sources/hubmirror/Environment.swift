import Foundation
import HubCore

/// The official client's environment conventions: HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_TOKEN...
enum HFEnvironment {
    static var env: [String: String] { ProcessInfo.processInfo.environment }

    static func nonEmpty(_ k: String) -> String? {
        guard let v = env[k], !v.isEmpty else { return nil }
        return v
    }

    static var home: String { nonEmpty("HOME") ?? NSHomeDirectory() }

    /// `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
    static var hfHome: String {
        if let h = nonEmpty("HF_HOME") { return expand(h) }
        if let x = nonEmpty("XDG_CACHE_HOME") { return expand(x) + "/huggingface" }
        return home + "/.cache/huggingface"
    }

    /// `HF_HUB_CACHE`, else legacy `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`.
    static var hubCache: String {
        if let c = nonEmpty("HF_HUB_CACHE") ?? nonEmpty("HUGGINGFACE_HUB_CACHE") { return expand(c) }
        return hfHome + "/hub"
    }

    /// `HF_ENDPOINT`, else the public Hub.
    static var endpoint: String { nonEmpty("HF_ENDPOINT") ?? "https://huggingface.co" }

    /// Token precedence as in the official client: explicit, `HF_TOKEN`, `HUGGING_FACE_HUB_TOKEN`,
    /// then the token file (`HF_TOKEN_PATH` or `$HF_HOME/token`) unless `HF_HUB_DISABLE_IMPLICIT_TOKEN` is set.
    static func token(explicit: String?) -> String? {
        if let t = explicit, !t.isEmpty { return t }
        if let t = nonEmpty("HF_TOKEN") ?? nonEmpty("HUGGING_FACE_HUB_TOKEN") { return t }
        if let d = nonEmpty("HF_HUB_DISABLE_IMPLICIT_TOKEN"), ["1", "true", "yes", "on"].contains(d.lowercased()) { return nil }
        let path = nonEmpty("HF_TOKEN_PATH").map(expand) ?? hfHome + "/token"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let t = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return t.isEmpty ? nil : t
    }

    /// The token in `file` (relative to the working folder), trimmed; a config error saying
    /// `unreadable` when the file cannot be read.
    static func token(file: String, unreadable: @autoclosure () -> String) throws(HubError) -> String {
        guard let d = FileManager.default.contents(atPath: absolute(file)) else { throw HubError(.config, unreadable()) }
        return String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// An http(s) endpoint URL without trailing slashes, or a usage error naming `option`.
    static func endpointURL(_ text: String, option: String) throws -> String {
        var e = text
        while e.hasSuffix("/") { e.removeLast() }
        guard e.hasPrefix("http://") || e.hasPrefix("https://"), URLComponents(string: e)?.host != nil else {
            throw HubError(.usage, "\(option) must be an http(s) URL, not '\(text)'")
        }
        return e
    }

    static func expand(_ p: String) -> String {
        if p == "~" { return home }
        if p.hasPrefix("~/") { return home + p.dropFirst(1) }
        return p
    }

    static func absolute(_ p: String) -> String {
        let e = expand(p)
        if e.hasPrefix("/") { return e }
        return FileManager.default.currentDirectoryPath + "/" + e
    }
}
