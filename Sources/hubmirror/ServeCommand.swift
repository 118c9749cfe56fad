import ArgumentParser
import Foundation
import HubCore
import HubServer
import HubStore
import HubSync
import Logging

/// `hubmirror serve`: the Hub HTTP API over the store (Docs/serve.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the store over the Hugging Face Hub HTTP API.",
        discussion: """
            Clients download with HF_ENDPOINT=http://HOST:PORT (huggingface_hub, `hf download`) or use the \
            server as another mirror's upstream. Private and gated repos are only served with a bearer \
            token listed in --tokens. Prints `listening on http://HOST:PORT` once ready; SIGTERM or \
            SIGINT shut it down gracefully.
            """
    )

    @Option(name: .customLong("cache-dir"), help: ArgumentHelp(
        "The huggingface_hub cache to serve (default: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub).",
        valueName: "dir"))
    var cacheDir: String?

    @Option(help: ArgumentHelp("Address to listen on.", valueName: "host"))
    var host: String = "127.0.0.1"

    @Option(parsing: .unconditional, help: ArgumentHelp("Port to listen on; 0 picks a free port (printed on start).", valueName: "port"))
    var port: Int = 8080

    @Option(name: .customLong("tokens"), help: ArgumentHelp(
        "File of bearer tokens allowed to read private and gated repos: one per line, '#' starts a comment line.",
        valueName: "file"))
    var tokensFile: String?

    @Option(name: .customLong("allow"), help: ArgumentHelp(
        "Serve only repos matching this glob (repeatable): 'acme/*' matches any type, 'datasets/acme/*' only datasets. Others look like missing repos.",
        valueName: "repo-glob"))
    var allow: [String] = []

    @Option(name: .customLong("page-size"), parsing: .unconditional, help: ArgumentHelp("Entries per tree listing page.", valueName: "n"))
    var pageSize: Int = 1000

    @Option(help: ArgumentHelp("Pull repos and revisions the store lacks from this Hub endpoint.", valueName: "url"))
    var upstream: String?

    @Option(help: ArgumentHelp("Token for --upstream (default: HF_TOKEN, then the token file).", valueName: "token"))
    var token: String?

    @OptionGroup(title: "Pull-through transfers (with --upstream; --connections bounds all pulled files together, --max-rate applies per file, --jobs has no effect)")
    var transfer: TransferFlags

    @Option(name: .customLong("public-url"), help: ArgumentHelp(
        "Base URL clients reach the server at, for absolute links behind a proxy (default: http:// + the request's Host).",
        valueName: "url"))
    var publicURL: String?

    func makeConfiguration() throws -> HubServerConfiguration {
        let dir = cacheDir.map(HFEnvironment.absolute) ?? HFEnvironment.hubCache
        let config = HubServerConfiguration(
            cacheDirectory: dir,
            host: host,
            port: port,
            tokens: try tokensFile.map(HubServerConfiguration.loadTokens(file:)) ?? [],
            allow: allow,
            pageSize: pageSize,
            publicURL: publicURL
        )
        try config.validate()
        return config
    }

    /// The pull-through fetcher for `--upstream`, nil without it.
    func makePullThroughFetcher(cacheDirectory: String) throws -> (any PullThroughFetcher)? {
        guard let upstream else { return nil }
        return UpstreamFetcher(endpoint: try HFEnvironment.endpointURL(upstream, option: "--upstream"), token: HFEnvironment.token(explicit: token),
                               cacheDirectory: cacheDirectory, transfer: try transfer.options())
    }

    func run() async throws {
        do {
            let config = try makeConfiguration()
            let fetcher = try makePullThroughFetcher(cacheDirectory: config.cacheDirectory)
            let server = HubServer(configuration: config, pullThrough: fetcher, logger: Logger(label: "hubmirror.serve"))
            try await server.run { address in
                // Tests and scripts wait for this exact line (Console.out writes unbuffered).
                Console.out("listening on \(address.url)")
            }
        } catch let e as HubError {
            Console.error(e.message)
            throw ExitCode(e.exitCode)
        }
    }
}
