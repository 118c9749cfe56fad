internal import CoreMetrics
internal import HubCore
internal import HubStore
internal import NIOPosix
internal import ServiceLifecycle

/// Totals of the store for the size gauges: repos, distinct blob files, their bytes (hard links
/// shared between repos counted once).
struct StoreStats: Sendable, Equatable {
    var repos = 0
    var blobs = 0
    var bytes: Int64 = 0

    static func scan(_ store: CacheStore) -> StoreStats {
        var s = StoreStats()
        var seen = Set<[UInt64]>()
        for repo in store.repos() {
            s.repos += 1
            let dir = store.repoDirectory(repo) + "/blobs"
            for name in PosixFS.names(in: dir) {
                guard let st = PosixFS.stamp(dir + "/" + name, followLinks: false), st.isRegularFile else { continue }
                if seen.insert([st.device, st.inode]).inserted {
                    s.blobs += 1
                    s.bytes += st.size
                }
            }
        }
        return s
    }
}

/// Refreshes the store gauges now and then, off the event loops, until shutdown.
struct StoreStatsService: Service {
    let store: CacheStore
    let metrics: ServerMetrics
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let store = self.store
                if let s = try? await NIOThreadPool.singleton.runIfActive({ StoreStats.scan(store) }) {
                    metrics.storeRepos.record(s.repos)
                    metrics.storeBlobs.record(s.blobs)
                    metrics.storeBytes.record(s.bytes)
                }
                metrics.storeScanned.open()
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
