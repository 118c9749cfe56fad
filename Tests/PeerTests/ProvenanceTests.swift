import Foundation
import HubCore
import HubFakeHub
import HubHTTP
import HubOperations
import HubStore
import Testing

/// `mirror` reports where every byte came from and every strike with its reason, per entry and in total.
@Suite struct MirrorProvenanceTests {
    @Test func aMirrorRunWithAPeerReportsBytesPerSourceAndTheStrike() async throws {
        try await FakeHub.withHub { hub in
            let tmp = TempDir()
            let commit = try PeerSyncTests.populate(hub)
            let a = Mirror(cache: tmp.path + "/a")
            _ = try await sync(PeerSyncTests.repo, hub: hub, into: a.cache)
            // A's copy of a.bin rots: the mirror run catches it, strikes A and takes that file from the hub.
            let etag = try #require(hub.files(PeerSyncTests.repo, "main")["a.bin"]).sha256
            let fd = open(CacheStore(root: a.cache).blobPath(PeerSyncTests.repo, etag: etag), O_WRONLY)
            var byte: UInt8 = 0x42
            #expect(pwrite(fd, &byte, 1, 100) == 1)
            close(fd)
            try await a.serving { aURL in
                let config = try MirrorConfig.parse("""
                    cache_dir = "\(tmp.path)/b"
                    peers = ["\(aURL)"]
                    [[repo]]
                    id = "acme/fleet"
                    revisions = ["main"]
                    """, file: tmp.path + "/mirror.toml")
                let runner = MirrorRunner(config: config, configPath: tmp.path + "/mirror.toml", cacheDir: tmp.path + "/b",
                                          endpoint: hub.endpoint, token: nil, transfer: testTransfer())
                let report = try await withCheckedThrowingContinuation { (c: CheckedContinuation<MirrorReport, any Error>) in
                    Thread { do { c.resume(returning: try runner.run()) } catch { c.resume(throwing: error) } }.start()
                }
                let peer = "peer \(Origin(url: aURL)!)"
                let upstream = try #require(report.bytesBySource?.keys.first { $0.hasPrefix("upstream") })
                #expect(report.exitCode == 0 && report.entries.first?.result?.commit == commit)
                #expect(report.bytesBySource?[upstream] == PeerSyncTests.size, "only the rotten file from upstream: \(report.bytesBySource ?? [:])")
                #expect((report.bytesBySource?[peer] ?? 0) >= PeerSyncTests.repoBytes - PeerSyncTests.size, "the rest from A")
                #expect(report.strikesBySource == [peer: 1])
                let strikes = report.entries.first?.result?.strikes ?? []
                #expect(strikes.count == 1 && strikes.first?.label.hasSuffix("a.bin") == true && strikes.first?.reason.isEmpty == false, "\(strikes)")
                // The same in the report on disk.
                let saved = try JSON.decode(MirrorReport.self, from: try #require(FS.readFile(runner.stateDir + "/last-run.json")))
                #expect(saved.bytesBySource == report.bytesBySource && saved.strikesBySource == [peer: 1])
            }
        }
    }
}
