import Foundation
import HubCore
import HubFakeHub
import HubStore
import HubSync
import Testing

/// A small tmpfs mounted for one test (root only; CI runs as root).
final class TmpfsMount: @unchecked Sendable {
    let path: String
    let parent = TempDir()

    init?(size: String) {
        path = parent.path + "/fs"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard getuid() == 0, TmpfsMount.sh("mount -t tmpfs -o size=\(size) tmpfs '\(path)'") == 0 else { return nil }
    }

    func remountReadOnly() -> Bool { TmpfsMount.sh("mount -o remount,ro '\(path)'") == 0 }

    deinit { _ = TmpfsMount.sh("umount '\(path)'") }

    @discardableResult
    static func sh(_ cmd: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", cmd + " 2>/dev/null"]
        try? p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    static let available: Bool = {
        guard getuid() == 0, let m = TmpfsMount(size: "1m") else { return false }
        _ = m
        return true
    }()
}

/// The disk filling up and a read-only store: stop, keep what is verified, say so.
@Suite(.enabled(if: TmpfsMount.available, "needs root to mount a small tmpfs"))
struct StoreFaultTests {
    static let repo = FakeHub.model("acme/store")

    func request(_ hub: FakeHub, _ cache: String) -> SyncRequest {
        SyncRequest(repo: Self.repo, endpoint: hub.endpoint, location: .cache(cache), transfer: testTransferOptions())
    }

    @Test func aFullDiskStopsBeforeFetchingAndSaysHowMuchIsMissing() async throws {
        try await FakeHub.withHub { hub in
            let fs = try #require(TmpfsMount(size: "2m"))
            try hub.commit(Self.repo, files: ["small.txt": "small\n", "big.bin": .pattern(seed: 1, size: 4 << 20, lfs: true)])
            let e = await hubError { _ = try await runSync(request(hub, fs.path)) }
            #expect(e?.kind == .diskFull)
            #expect(e?.exitCode == 40)
            #expect(e?.message.contains("acme/store") == true && e?.message.contains("free") == true)
            #expect(!hub.requests.contains { $0.path.contains("/resolve/") }, "nothing fetched into a disk that cannot hold it")
            #expect(CacheStore(root: fs.path).readRef(Self.repo, revision: "main") == nil)
        }
    }

    @Test func aReadOnlyStoreFailsClearlyAndKeepsTheOldSnapshot() async throws {
        try await FakeHub.withHub { hub in
            let fs = try #require(TmpfsMount(size: "8m"))
            let c1 = try hub.commit(Self.repo, files: ["a.txt": "a\n"])
            _ = try await runSync(request(hub, fs.path))
            try hub.commit(Self.repo, files: ["b.txt": "b\n"])
            #expect(fs.remountReadOnly())
            let e = await hubError { _ = try await runSync(request(hub, fs.path)) }
            #expect(e?.kind == .readOnly)
            #expect(e?.exitCode == 41)
            #expect(CacheStore(root: fs.path).readRef(Self.repo, revision: "main") == c1)
            try expectSnapshotMatches(hub, Self.repo, commit: c1, cache: fs.path)
        }
    }

    @Test func theDiskFillingUpDuringASyncKeepsTheOldSnapshotAndTheVerifiedContent() async throws {
        try await FakeHub.withHub { hub in
            let fs = try #require(TmpfsMount(size: "16m"))
            let c1 = try hub.commit(Self.repo, files: ["a.txt": "a\n"])
            _ = try await runSync(request(hub, fs.path))
            let size: Int64 = 4 << 20
            try hub.commit(Self.repo, files: ["big.bin": .pattern(seed: 5, size: size, lfs: true)])
            // Held after 1 MiB until the disk is full; the partial file was preallocated before the request.
            _ = hub.addFault(FakeHub.FaultRule(.any, match: .file("big.bin"), method: .get, times: 1, action: .stallAfter(bytes: 1 << 20)))
            var slow = request(hub, fs.path)
            slow.transfer.stallTimeout = 60
            let sync = Task { await hubError { _ = try await runSync(slow) } }
            await hub.waitForStalls()
            #expect(TmpfsMount.sh("dd if=/dev/zero of='\(fs.path)/filler' bs=64k") != 0, "dd stops at ENOSPC")
            hub.releaseStalls()
            let e = await sync.value
            #expect(e?.kind == .diskFull, "\(String(describing: e))")
            #expect(e?.exitCode == 40)
            #expect(e?.message.contains("No space left") == true)
            let store = CacheStore(root: fs.path)
            #expect(store.readRef(Self.repo, revision: "main") == c1, "the old snapshot is still the published one")
            try expectSnapshotMatches(hub, Self.repo, commit: c1, cache: fs.path)

            // Space again: nothing received before is fetched twice.
            FS.removeItem(fs.path + "/filler")
            hub.clearLog()
            let (result, _) = try await runSync(request(hub, fs.path))
            let fetchedAgain = hub.requests.filter { $0.path.contains("big.bin") }.reduce(Int64(0)) { $0 + $1.bytesSent }
            #expect(fetchedAgain == 0, "the verified file was kept, not fetched again: \(fetchedAgain) bytes")
            try expectSnapshotMatches(hub, Self.repo, commit: result.commit, cache: fs.path)
        }
    }
}
