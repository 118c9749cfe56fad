internal import Foundation
internal import HubCore

/// Content whose streamed bytes may have been wrong: a pull-through stream of it was cut because
/// the file failed verification after some bytes went out.
///
/// A client that resumes such a download with `Range: bytes=N-` would keep the bad bytes before
/// `N`. For a while after a cut, ranged requests for that content are answered `200` with the whole
/// file; the official client (like curl and wget) then starts the file again from byte 0.
final class CutStreams: Sendable {
    let window: Double
    private let cuts = Locked<[String: Double]>([:])

    init(window: Double = 3600) { self.window = window }

    func record(_ repo: RepoRef, etag: String) {
        let now = Date().timeIntervalSince1970
        cuts.withLock { c in
            c = c.filter { now - $0.value < window }
            c[Self.key(repo, etag)] = now
        }
    }

    func wasCut(_ repo: RepoRef, etag: String) -> Bool {
        let now = Date().timeIntervalSince1970
        return cuts.withLock { c in c[Self.key(repo, etag)].map { now - $0 < window } ?? false }
    }

    static func key(_ repo: RepoRef, _ etag: String) -> String { "\(repo.cacheFolderName)/\(etag)" }
}
