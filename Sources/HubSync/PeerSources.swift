import HubCore
import HubHTTP
import HubPeer
import HubTransfer
import Logging

/// Which sources each content of a sync with `--peer` is asked from: the peers that say they hold it
/// (one `have` query per peer for the whole batch), in the order given, then the endpoint as the
/// fallback for whatever no peer delivers (none with `--authority`: then only peers). A peer that
/// cannot be reached is skipped for the run.
enum PeerSources {
    static func plan(_ entries: [ManifestEntry], request: SyncRequest, commit: String, logger: Logger) -> [String: [any ContentSource]] {
        // With an authority nothing is asked of the endpoint: the peers (the authority first) are all there is.
        let upstream: [any ContentSource] = request.authority != nil ? [] : [HubEndpointSource(
            endpoint: request.endpoint, repo: request.repo, commit: commit, credentials: request.credentials, isFallback: true)]
        let digests = Array(Set(entries.map(\.etag))).sorted()
        var holders: [(PeerSource, Set<String>)] = []
        let peers = (request.authority.map { [$0] } ?? []) + request.peers.filter { $0.url != request.authority?.url }
        for peer in peers {
            do {
                let answer = try PeerClient(base: peer.url, token: peer.token).have(digests)
                let held = Set(answer.blobs.filter { $0.value.whole }.keys)
                holders.append((PeerSource(base: peer.url, token: peer.token, maxConnections: request.transfer.connections), held))
            } catch let e as HubError {
                logger.warning("peer \(peer.url) is not used for \(request.repo): \(e.message)")
            } catch {
                logger.warning("peer \(peer.url) is not used for \(request.repo): \(error)")
            }
        }
        var out: [String: [any ContentSource]] = [:]
        for e in entries {
            out[e.etag] = holders.filter { $0.1.contains(e.etag) }.map(\.0) + upstream
        }
        return out
    }
}
