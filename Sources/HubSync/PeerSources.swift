import HubCore
import HubHTTP
import HubPeer
import HubTransfer
import Logging

/// Which sources each content of a sync with `--peer` is asked from: every peer that answered the
/// first `have` query (the authority first), each asked only for the bytes it holds (whole blobs, or
/// the chunks of one it is still downloading, as the watch keeps learning), then the endpoint as the
/// fallback for whatever no peer holds or will soon (none with `--authority`: then only peers). A peer
/// that cannot be reached at the start is skipped for the run.
struct PeerSources {
    /// For every content of the fetch: the peers, then the upstream fallback.
    let sources: [any ContentSource]
    /// Keeps the peers' holdings current while the fetch runs; stop it when the fetch is over.
    let watch: PeerWatch

    init(_ entries: [ManifestEntry], request: SyncRequest, commit: String, logger: Logger) {
        // With an authority nothing is asked of the endpoint: the peers (the authority first) are all there is.
        let upstream: [any ContentSource] = request.authority != nil ? [] : [HubEndpointSource(
            endpoint: request.endpoint, repo: request.repo, commit: commit, credentials: request.credentials, isFallback: true)]
        let digests = Array(Set(entries.map(\.etag))).sorted()
        let peers = (request.authority.map { [$0] } ?? []) + request.peers.filter { $0.url != request.authority?.url }
        var timing = request.peerTiming
        if request.advertise != nil { timing.startGrace = timing.fleetStartGrace }
        watch = PeerWatch(peers: peers, digests: digests, timing: timing)
        var sources: [any ContentSource] = []
        for (i, peer) in peers.enumerated() {
            if let why = watch.firstErrors[i] {
                logger.warning("peer \(peer.url) is not used for \(request.repo): \(why)")
                continue
            }
            sources.append(PeerSource(base: peer.url, token: peer.token, maxConnections: request.transfer.connections, watch: (watch, i)))
        }
        self.sources = sources + upstream
    }
}
