import Foundation
import HubCore
import HubServer
import HubStore
import Testing

/// Answers from warm caches (refs, views, revision-info bytes, small blob bytes, remembered routes)
/// are byte for byte those of a server that has seen nothing yet, headers included (issue #13).
@Suite("Warm answers equal cold ones", .timeLimit(.minutes(3)))
struct WarmAnswersTests {
    struct Call: CustomStringConvertible {
        var method = "GET"
        var path: String
        var headers: [String] = []
        var body: String?
        var description: String { "\(method) \(path) \(headers)" }
    }

    static let token = "Authorization: Bearer sekrit-token"
    static let calls: [Call] = {
        var c: [Call] = []
        for rev in ["main", "v1.0", Fixture.main, "feature%2Fx", "refs%2Fpr%2F1", "nope"] {
            c.append(Call(path: "/api/models/acme/tiny/revision/\(rev)"))
            c.append(Call(method: "HEAD", path: "/api/models/acme/tiny/revision/\(rev)"))
        }
        c += [
            Call(path: "/api/models/acme/tiny/revision/main?blobs=true"),
            Call(path: "/api/models/acme/tiny/revision/main?expand=sha&expand=siblings"),
            Call(path: "/api/models/acme/tiny"),
            Call(path: "/api/models/acme/tiny/tree/main?recursive=true"),
            Call(path: "/api/models/acme/tiny/tree/main/sub"),
            Call(path: "/api/models/acme/tiny/tree/main/missing"),
            Call(method: "POST", path: "/api/models/acme/tiny/paths-info/main", headers: ["Content-Type: application/x-www-form-urlencoded"],
                 body: "paths=config.json&paths=sub&paths=nope"),
            Call(path: "/api/models/acme/tiny/refs"),
            Call(path: "/api/datasets/acme/data/revision/main"),
            Call(path: "/api/models/acme/secret/revision/main"),
            Call(path: "/api/models/acme/secret/revision/main", headers: [token]),
            Call(path: "/api/models/acme/gated/revision/main"),
            Call(path: "/api/models/acme/gated/revision/main", headers: [token]),
            Call(path: "/api/models/acme/absent/revision/main"),
        ]
        for f in ["README.md", "config.json", "model.bin", "empty.txt", "sub/dir/w.bin", "extra/not-synced.bin", "nope.txt", "../x"] {
            c.append(Call(method: "HEAD", path: "/acme/tiny/resolve/main/\(f)"))
            c.append(Call(path: "/acme/tiny/resolve/main/\(f)"))
        }
        c += [
            Call(path: "/acme/tiny/resolve/main/model.bin", headers: ["Range: bytes=10-19"]),
            Call(path: "/acme/tiny/resolve/main/model.bin", headers: ["Range: bytes=-5"]),
            Call(path: "/acme/tiny/resolve/main/model.bin", headers: ["Range: bytes=5000-"]),
            Call(path: "/acme/tiny/resolve/feature/x/README.md"),
            Call(path: "/acme/tiny/resolve/refs/pr/1/README.md"),
            Call(path: "/acme/secret/resolve/main/secret.txt"),
            Call(path: "/acme/secret/resolve/main/secret.txt", headers: [token]),
            Call(method: "HEAD", path: "/acme/gated/resolve/main/train.csv"),
            Call(path: "/datasets/acme/data/resolve/main/train.csv"),
        ]
        return c
    }()

    /// Status, headers (without `Date` and the per-request `X-Request-Id`) and body.
    static func answer(_ s: TestServer, _ c: Call) async throws -> String {
        let r = try await http(s.url + c.path, method: c.method, headers: c.headers, body: c.body)
        let headers = r.headers.filter { !["date", "x-request-id"].contains($0.name.lowercased()) }.map { "\($0.name): \($0.value)" }
        return "\(r.status)\n" + headers.joined(separator: "\n") + "\n\n" + Data(r.body).base64EncodedString()
    }

    @Test("every call answered alone by a fresh server = the same call on a server that has answered them all before")
    func warmEqualsCold() async throws {
        let cache = try Fixture.standard()
        var cold: [String] = []
        for c in Self.calls {
            cold.append(try await withServer(cache) { s in try await Self.answer(s, c) })
        }
        try await withServer(cache) { s in
            for round in 0..<3 {
                for (i, c) in Self.calls.enumerated() {
                    let warm = try await Self.answer(s, c)
                    #expect(warm == cold[i], "round \(round): \(c)")
                }
            }
        }
        #expect(cold.contains { $0.hasPrefix("200") } && cold.contains { $0.hasPrefix("401") } && cold.contains { $0.hasPrefix("206") })
    }
}
