import Foundation
import HubCore
import HubDigest
import HubStore

/// What the hasher found.
enum HashOutcome: Sendable {
    /// The whole content is hashed (and durable when asked): its digests, with chunk digests if computed.
    case finished(sha256: String, gitBlobID: String?, chunks: ChunkDigests?)
    /// The bytes of this range do not match the chunk's expected SHA-256; hashing went back to its start.
    case chunkFailed(ByteRange)
    case failed(HubError)
}

/// Hashes staged content from byte 0 up to the end of its contiguous written prefix, on its own
/// queue, as the prefix grows. Data is read back right after it was written, so it comes from the page
/// cache: no second pass over the disk. On resume the journaled prefix is simply hashed again, which
/// is why no hash state needs to survive a crash.
///
/// With a chunk size it also computes each chunk's SHA-256; with expected chunk digests it checks each
/// chunk as it completes and, on a mismatch, goes back to the chunk's start (the file digest too, from
/// a copy kept at the boundary) so that only that chunk need be fetched again.
final class FrontierHasher: @unchecked Sendable {
    private let queue: DispatchQueue
    private let content: any StagedContent
    private var hasher: ContentHasher
    private let size: Int64
    private var hashedTo: Int64 = 0
    private var requestedTo: Int64 = -1   // touched only on the engine thread
    private var cancelled = false
    /// A chunk failed: requests queued before the engine took note are stale until `rewound(to:)`.
    private var halted = false
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    private let onResult: @Sendable (HashOutcome) -> Void
    /// Told the new end of the hashed prefix after each read (on the hasher's queue).
    private let onProgress: @Sendable (Int64) -> Void
    /// Write the data to disk as it is hashed, and make it durable before reporting the digest.
    private let durable: Bool

    private let chunkSize: Int64?
    private let expected: ChunkDigests?
    private var chunk: Digest?
    private var chunkList: [String] = []
    /// The file hasher as it was at the start of the current chunk (only when chunks are checked).
    private var atChunkStart: ContentHasher?

    init(content: any StagedContent, gitBlob: Bool, label: String, durable: Bool = true,
         chunkSize: Int64? = nil, expected: ChunkDigests? = nil,
         onProgress: @escaping @Sendable (Int64) -> Void = { _ in },
         onResult: @escaping @Sendable (HashOutcome) -> Void) {
        self.content = content
        size = content.size
        self.durable = durable
        self.expected = expected
        self.chunkSize = expected?.chunkSize ?? chunkSize
        hasher = ContentHasher(size: size, gitBlob: gitBlob)
        if self.chunkSize != nil { chunk = Digest(.sha256) }
        if expected != nil { atChunkStart = hasher.copy() }
        queue = DispatchQueue(label: "hubmirror.hash.\(label)")
        self.onResult = onResult
        self.onProgress = onProgress
    }

    deinit { buffer.deallocate() }

    /// Asks for hashing up to `end` (the contiguous written prefix). Cheap; work happens on the queue.
    func advance(to end: Int64) {
        guard end > requestedTo else { return }
        requestedTo = end
        queue.async { [self] in work(upTo: end) }
    }

    /// After a chunk failed: the prefix to hash now ends at the chunk's start again, and later
    /// requests (once the chunk is written anew) are served.
    func rewound(to offset: Int64) {
        requestedTo = min(requestedTo, offset)
        queue.async { [self] in halted = false }
    }

    func cancel() { queue.sync { cancelled = true } }

    private func work(upTo end: Int64) {
        guard !cancelled, !halted else { return }
        let buf = buffer
        while hashedTo < end && !cancelled {
            var want = min(Int64(buf.count), end - hashedTo)
            if let cs = chunkSize { want = min(want, (hashedTo / cs + 1) * cs - hashedTo) }
            let n: Int
            do {
                n = try content.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[0..<Int(want)]), at: hashedTo)
            } catch {
                finish(.failed(error))
                return
            }
            if n == 0 {
                finish(.failed(HubError(.store, "partial file is shorter than its journal says")))
                return
            }
            let piece = UnsafeRawBufferPointer(rebasing: buf[0..<n])
            hasher.update(piece)
            chunk?.update(piece)
            // Start writeback of what was just hashed, so the final sync waits only for the tail
            // and disk writes overlap the download instead of following it.
            if durable { content.startWriteback(offset: hashedTo, count: Int64(n)) }
            hashedTo += Int64(n)
            if let cs = chunkSize, hashedTo % cs == 0 || hashedTo == size, !chunkEnded(cs) { return }
            onProgress(hashedTo)
        }
        if hashedTo == size && !cancelled {
            // Durable before it can be published; done here so the transfer thread never blocks on the disk.
            if durable {
                do { try content.syncData() } catch {
                    finish(.failed(error))
                    return
                }
            }
            let d = hasher.finish()
            finish(.finished(sha256: d.sha256, gitBlobID: d.gitBlobID, chunks: chunkSize.map { ChunkDigests(chunkSize: $0, sha256: chunkList) }))
        }
    }

    /// A chunk is complete: record or check its digest. False when it failed (hashing went back).
    private func chunkEnded(_ cs: Int64) -> Bool {
        guard let c = chunk else { return true }
        let digest = c.finalizeHex()
        let index = chunkList.count
        let start = Int64(index) * cs
        if let expected, index < expected.sha256.count, expected.sha256[index] != digest {
            hasher = atChunkStart!.copy()
            hashedTo = start
            chunk = Digest(.sha256)
            halted = true
            onResult(.chunkFailed(ByteRange(start, min(start + cs, size))))
            return false
        }
        chunkList.append(digest)
        chunk = Digest(.sha256)
        if expected != nil { atChunkStart = hasher.copy() }
        return true
    }

    private func finish(_ outcome: HashOutcome) {
        cancelled = true
        onResult(outcome)
    }
}
