import ArgumentParser
import HubCore
import HubPeer

/// `--peer URL` (repeatable) and `--peer-token`: other hubmirror mirrors to take bytes from.
struct PeerOptions: ParsableArguments {
    @Option(name: .customLong("peer"), help: ArgumentHelp(
        "Another hubmirror mirror (`hubmirror serve`) to take bytes from before the endpoint (repeatable). Refs and manifests still come from the endpoint; every byte is checked.",
        valueName: "url"))
    var urls: [String] = []

    @Option(name: .customLong("peer-token"), help: ArgumentHelp(
        "Token for the peers (the endpoint's token is never sent to a peer). Never logged.", valueName: "token"))
    var token: String?

    @Option(name: .customLong("authority"), help: ArgumentHelp(
        "A peer that is the source of refs and manifests, for a mirror with no upstream access: then nothing is asked of the endpoint, and bytes come from the peers, this one first.",
        valueName: "url"))
    var authority: String?

    @Option(name: .customLong("advertise"), help: ArgumentHelp(
        "This mirror's own serve URL, as its peers name it in their --peer lists. Mirrors that list each other and are started together then split the upstream fetches (each chunk is fetched from upstream by one of them) instead of each fetching everything.",
        valueName: "url"))
    var advertise: String?

    func endpoints() throws -> [PeerEndpoint] {
        if token != nil && urls.isEmpty && authority == nil { throw HubError(.usage, "--peer-token needs at least one --peer or --authority") }
        return try urls.map { PeerEndpoint(url: try HFEnvironment.endpointURL($0, option: "--peer"), token: token) }
    }

    func advertisedURL() throws -> String? {
        guard let advertise else { return nil }
        if urls.isEmpty { throw HubError(.usage, "--advertise needs the other mirrors of the fleet as --peer") }
        return PeerProtocol.base(try HFEnvironment.endpointURL(advertise, option: "--advertise"))
    }

    func authorityEndpoint() throws -> PeerEndpoint? {
        try authority.map { PeerEndpoint(url: try HFEnvironment.endpointURL($0, option: "--authority"), token: token) }
    }
}
