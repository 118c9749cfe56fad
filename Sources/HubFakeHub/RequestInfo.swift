import Foundation
import HubCore

/// The parts of a request the handlers need.
struct RequestInfo {
    var method: String
    var pathPart: String
    var query: [(String, String)]
    var headers: [String: String]
    var body: [UInt8]

    func query(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
    func queryAll(_ name: String) -> [String] { query.filter { $0.0 == name }.map(\.1) }
    func flag(_ name: String) -> Bool { ["1", "true", "True"].contains(query(name) ?? "") }

    var bearerToken: String? {
        guard let auth = headers["authorization"] else { return nil }
        let parts = auth.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingWhitespace()
    }
}

/// Form / query decoding: `+` is a space, then percent-decoding.
func decodeForm(_ text: Substring) -> [(String, String)] {
    text.split(separator: "&", omittingEmptySubsequences: true).map { item in
        let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        func dec(_ s: Substring) -> String {
            let plus = s.replacingOccurrences(of: "+", with: " ")
            return PercentEncoding.decode(plus) ?? plus
        }
        return (dec(kv[0]), kv.count > 1 ? dec(kv[1]) : "")
    }
}
