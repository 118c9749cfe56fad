import ArgumentParser
import Foundation
import HubCore
import HubFakeHub

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct FakeHubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubmirror-fakehub",
        abstract: "Serve a fake Hugging Face Hub (demo repos or a folder) until SIGTERM/SIGINT.",
        discussion: """
            Prints one line 'listening on http://HOST:PORT' to stdout once the server accepts connections;
            everything else goes to stderr.
            """)

    @Flag(help: "Serve the demo repos (acme/tiny-model, acme/tiny-data, acme/tiny-space, acme/gated-model).")
    var demo = false

    @Option(name: .customLong("serve-dir"), help: "Serve this folder as one repo (one commit; files >= 10 MiB are LFS).")
    var serveDir: String?

    @Option(help: "Repo id for --serve-dir, e.g. org/name.")
    var repo: String?

    @Option(help: "Repo type for --serve-dir: model, dataset or space.")
    var type: String = "model"

    @Option(name: .customLong("cdn-base"), help: "Redirect LFS files to {cdn-base}/{type}s/{repo}/{path} (e.g. an nginx over the folder).")
    var cdnBase: String?

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to bind (0 = any free port).")
    var port: Int = 0

    @Flag(name: .customLong("live-style"), help: "Mimic huggingface.co redirects: 307 to resolve-cache, 302 to a CDN host.")
    var liveStyle = false

    @Option(name: .customLong("token"), help: "A token accepted for private and gated repos (repeatable).")
    var tokens: [String] = []

    @Option(name: .customLong("trickle"), help: ArgumentHelp(
        "Send the body of this repo file at most this fast on every GET, e.g. model.safetensors:200000 (repeatable).",
        valueName: "path:bytes-per-second"))
    var trickles: [String] = []

    func trickleRules() throws -> [FakeHub.FaultRule] {
        try trickles.map { spec in
            guard let colon = spec.lastIndex(of: ":"), let rate = Int(spec[spec.index(after: colon)...]), rate > 0 else {
                throw ValidationError("--trickle wants path:bytes-per-second, got '\(spec)'")
            }
            return FakeHub.FaultRule(.any, match: .file(String(spec[..<colon])), method: .get, times: Int.max, action: .trickle(bytesPerSecond: rate))
        }
    }

    func validate() throws {
        _ = try trickleRules()
        if demo == (serveDir != nil) { throw ValidationError("give exactly one of --demo and --serve-dir") }
        if serveDir != nil, repo == nil { throw ValidationError("--serve-dir needs --repo org/name") }
        if RepoType(parsing: type) == nil { throw ValidationError("--type must be model, dataset or space") }
    }

    func run() async throws {
        // Content of --serve-dir is hashed before the server starts, so "listening" means ready.
        let hub = try await FakeHub.start(cdn: true, host: host, port: port)
        do {
            hub.liveHubStyle = liveStyle
            hub.cdnBase = cdnBase
            for token in tokens { hub.validTokens.insert(token) }
            for rule in try trickleRules() { _ = hub.addFault(rule) }
            if demo {
                let demo = try hub.loadDemo()
                FileHandle.standardError.write(Data((demo.summary + "\n").utf8))
            } else if let serveDir, let repo {
                let ref = RepoRef(type: RepoType(parsing: type)!, id: try RepoID(repo))
                let sha = try hub.commitDirectory(serveDir, to: ref)
                FileHandle.standardError.write(Data("\(ref) main \(sha) (\(hub.files(ref, sha).count) files from \(serveDir))\n".utf8))
            }
        } catch {
            await hub.stop()
            throw error
        }
        if let cdn = hub.cdnEndpoint { FileHandle.standardError.write(Data("cdn on \(cdn)\n".utf8)) }
        // An unbuffered write, so a script reading the pipe sees the line at once.
        FileHandle.standardOutput.write(Data("listening on \(hub.endpoint)\n".utf8))
        await Self.waitForTermination()
        FileHandle.standardError.write(Data("stopping\n".utf8))
        await hub.stop()
    }

    /// Returns on SIGINT or SIGTERM.
    static func waitForTermination() async {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            sources.append(source)
        }
        for await _ in stream { break }
        for source in sources { source.cancel() }
    }
}
