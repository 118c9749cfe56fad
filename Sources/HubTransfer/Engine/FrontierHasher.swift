import Foundation
import HubCore
import HubDigest
import HubStore

/// What the hasher found.
enum HashOutcome: Sendable {
    /// The bytes below this offset are hashed and stored: their window slots are free again.
    case stored(Int64)
    /// The whole content is hashed (and durable when asked): its digests, with chunk digests if computed.
    case finished(sha256: String, gitBlobID: String?, chunks: ChunkDigests?)
    /// The bytes of this range do not match the chunk's expected SHA-256; hashing went back to its start.
    case chunkFailed(ByteRange)
    case failed(HubError)
}

/// Hashes a file from byte 0 up to the end of its contiguous received prefix, on its `HashGroup`'s
/// queue (shared with at most one other file, whose bytes it is hashed beside), as the prefix grows,
/// and hands what it hashed to the `WindowWriter`. New bytes are hashed in the
/// file's window, where the requests copied them: nothing is read back from the disk. Only ranges an
/// earlier run left on disk are read (and not written again). On resume the journaled prefix is simply
/// hashed again, which is why no hash state needs to survive a crash.
///
/// With a chunk size it also computes each chunk's SHA-256; with expected chunk digests it checks each
/// chunk as it completes and, on a mismatch, goes back to the chunk's start (the file digest too, from
/// a copy kept at the boundary) so that only that chunk need be fetched again; a chunk is then stored
/// only once it verified, so a bad chunk never reaches the disk.
final class FrontierHasher: @unchecked Sendable {
    let window: FileWindow
    private let writer: WindowWriter
    let group: HashGroup
    private var queue: DispatchQueue { group.queue }
    private let content: any StagedContent
    private var hasher: ContentHasher
    private let size: Int64
    private var hashedTo: Int64 = 0
    /// Bytes below this are handed to the writer.
    private var handedTo: Int64 = 0
    /// Hand bytes to the writer in pieces of at least this many (the write size).
    private let writeSize: Int64
    /// Ranges an earlier run left on disk: hashed from there, not written again.
    private var onDisk: IntervalSet
    private var readBuffer: UnsafeMutableRawBufferPointer?
    private var requestedTo: Int64 = -1   // touched only on the engine thread
    /// The received prefix ends here: hash up to it (on the queue).
    private var wantedTo: Int64 = -1
    /// When the bytes not hashed yet began to wait, and when bytes last arrived (`TransferEngine.now`, on the queue).
    private(set) var readySince = 0.0
    private(set) var lastAdvanced = 0.0
    private var cancelled = false
    /// A chunk failed: requests queued before the engine took note are stale until `rewound(to:)`.
    private var halted = false
    private let onResult: @Sendable (HashOutcome) -> Void

    private let chunkSize: Int64?
    private let expected: ChunkDigests?
    private var chunk: Digest?
    private var chunkList: [String] = []
    /// The file hasher as it was at the start of the current chunk (only when chunks are checked).
    private var atChunkStart: ContentHasher?

    /// - Parameters:
    ///   - onDisk: ranges already on disk (an earlier run's); everything else arrives in `window`.
    ///   - direct: write with O_DIRECT where the content takes it.
    ///   - onProgress: told the new end of the stored prefix (on the writer's queue).
    init(content: any StagedContent, window: FileWindow, onDisk: IntervalSet, gitBlob: Bool, label: String,
         group: HashGroup, durable: Bool = true, direct: Bool = true, writeSize: Int64 = 2 << 20,
         chunkSize: Int64? = nil, expected: ChunkDigests? = nil,
         onProgress: @escaping @Sendable (Int64) -> Void = { _ in },
         onResult: @escaping @Sendable (HashOutcome) -> Void) {
        self.content = content
        self.window = window
        self.onDisk = onDisk
        size = content.size
        self.writeSize = max(1, min(writeSize, Int64(window.capacity) / 2))
        self.expected = expected
        self.chunkSize = expected?.chunkSize ?? chunkSize
        hasher = ContentHasher(size: size, gitBlob: gitBlob, pairable: group.capacity > 1 && Self.canPair(gitBlob: gitBlob, chunkSize: self.chunkSize))
        if self.chunkSize != nil { chunk = Digest(.sha256) }
        if expected != nil { atChunkStart = hasher.copy() }
        self.group = group
        self.onResult = onResult
        writer = WindowWriter(content: content, window: window, direct: direct, durable: durable, label: label,
                              onStored: { onProgress($0); onResult(.stored($0)) }, onResult: onResult)
        group.queue.async { [self] in group.join(self) }
    }

    deinit { readBuffer?.deallocate() }

    /// The most bytes one step hashes (alone or beside another file's): the queue stays responsive.
    static let pieceSize: Int64 = 1 << 20

    /// Whether a file's bytes can be hashed beside another file's: only its SHA-256 is computed over
    /// them (no git blob id, no chunk digests), and this machine has the paired kernels.
    static func canPair(gitBlob: Bool, chunkSize: Int64?) -> Bool {
        !gitBlob && chunkSize == nil && ContentHasher.pairingAvailable
    }

    /// Asks for hashing up to `end` (the contiguous received prefix). Cheap; work happens on the queue.
    func advance(to end: Int64) {
        guard end > requestedTo else { return }
        requestedTo = end
        queue.async { [self] in
            // While halted, what was asked for before the engine took note of a failed chunk is stale.
            if !halted {
                let now = TransferEngine.now()
                if wantedTo <= hashedTo { readySince = now }
                wantedTo = max(wantedTo, end)
                lastAdvanced = now
            }
            group.pump()
        }
    }

    /// After a chunk failed: the prefix to hash now ends at the chunk's start again, and later
    /// requests (once the chunk is written anew) are served.
    func rewound(to offset: Int64) {
        requestedTo = min(requestedTo, offset)
        queue.async { [self] in
            halted = false
            group.pump()
        }
    }

    /// Hands what is hashed to the writer now (down to the write alignment) instead of waiting for a
    /// full write: on a slow or stalled link the stored prefix (the journal, a pull-through reader)
    /// keeps moving. Chunks that are checked still wait until they verified.
    func flush() {
        queue.async { [self] in
            guard !cancelled, !halted, expected == nil else { return }
            handOff(upTo: handOffPoint)
        }
    }

    /// Stops hashing and writing; returns once neither is under way.
    func cancel() {
        queue.sync {
            cancelled = true
            group.dropRetired()
        }
        writer.cancel()
    }

    /// Done: finished, failed or cancelled; its group lets it go (on the queue).
    var isRetired: Bool { cancelled }

    /// Something to do now: bytes to hash, or the end to report (on the queue).
    var hasWork: Bool {
        guard !cancelled, !halted else { return false }
        return nextCount > 0 || (hashedTo == size && wantedTo >= size)
    }

    /// How many bytes the next step hashes (at most). Ends on a 64-byte block where the file's hasher
    /// is pairable (but at the end of the file), so that it is ready to pair again after the step.
    private var nextCount: Int64 {
        var want = min(Self.pieceSize, wantedTo - hashedTo)
        guard want > 0 else { return 0 }
        if let cs = chunkSize { want = min(want, (hashedTo / cs + 1) * cs - hashedTo) }
        if hasher.isPairable && hashedTo + want < size { want -= (hashedTo + want) % 64 }
        return max(0, want)
    }

    /// Received bytes not hashed yet.
    var backlog: Int64 { max(0, wantedTo - hashedTo) }

    /// The bytes ready are the last of the file: nothing to wait for.
    var hasItsLastBytes: Bool { wantedTo >= size }

    /// More bytes of this file may come that can be hashed beside another file's.
    var mayPairSoon: Bool { !cancelled && !halted && hasher.isPairable && wantedTo < size }

    /// How many bytes can be hashed beside another file's now: whole blocks in one piece of the window,
    /// with nothing else to compute over them; 0 when none.
    var pairableCount: Int64 {
        guard !cancelled, !halted, hasher.canPair, onDisk.range(containing: hashedTo) == nil else { return 0 }
        var n = min(Self.pieceSize, wantedTo - hashedTo)
        if let next = onDisk.start(after: hashedTo) { n = min(n, next - hashedTo) }
        n = min(n, Int64(window.capacity) - hashedTo % Int64(window.capacity))
        return max(0, n - n % 64)
    }

    /// Hashes `count` bytes of `a` and of `b` side by side (both `pairableCount >= count`).
    static func hashPaired(_ a: FrontierHasher, _ b: FrontierHasher, count: Int64) {
        let pa = UnsafeRawBufferPointer(a.window.slices(ByteRange(a.hashedTo, a.hashedTo + count))[0])
        let pb = UnsafeRawBufferPointer(b.window.slices(ByteRange(b.hashedTo, b.hashedTo + count))[0])
        precondition(pa.count == count && pb.count == count && ContentHasher.updatePaired(a.hasher, pa, b.hasher, pb))
        a.hashed(count)
        b.hashed(count)
    }

    /// Hashes the next piece alone; returns how many bytes it hashed.
    @discardableResult
    func step() -> Int64 {
        guard !cancelled, !halted else { return 0 }
        var count: Int64 = 0
        let want = nextCount
        if want > 0 {
            let (n, ok) = hashPiece(want)
            count = n
            guard ok else { return count }
        }
        finishIfDone()
        return count
    }

    /// Hashes up to `want` bytes from the frontier (alone): how many, and false when reading them
    /// failed or a chunk did not verify.
    private func hashPiece(_ want: Int64) -> (Int64, Bool) {
        var want = want
        if let l = onDisk.range(containing: hashedTo) {
            want = min(want, l.end - hashedTo)
            guard readLeftover(ByteRange(hashedTo, hashedTo + want)) else { return (0, false) }
        } else {
            if let next = onDisk.start(after: hashedTo) { want = min(want, next - hashedTo) }
            for s in window.slices(ByteRange(hashedTo, hashedTo + want)) {
                let piece = UnsafeRawBufferPointer(s)
                hasher.update(piece)
                chunk?.update(piece)
            }
        }
        return (want, hashed(want))
    }

    /// `count` more bytes are hashed: chunk ends checked, hashed bytes handed to the writer. False
    /// when a chunk did not verify (hashing went back to its start).
    @discardableResult
    private func hashed(_ count: Int64) -> Bool {
        hashedTo += count
        if let cs = chunkSize, hashedTo % cs == 0 || hashedTo == size, !chunkEnded(cs) { return false }
        // Checked chunks are handed over when they verified (in chunkEnded), the rest as they are hashed.
        if expected == nil && (hashedTo - handedTo >= writeSize || hashedTo == size) { handOff(upTo: handOffPoint) }
        return true
    }

    /// At the end of the file: everything to the writer, and the digests reported once it is stored.
    private func finishIfDone() {
        guard hashedTo == size && !cancelled else { return }
        handOff(upTo: size)
        let d = hasher.finish()
        writer.finish(.finished(sha256: d.sha256, gitBlobID: d.gitBlobID, chunks: chunkSize.map { ChunkDigests(chunkSize: $0, sha256: chunkList) }))
        cancelled = true
    }

    /// Reads a range an earlier run left on disk and hashes it. False when that failed (reported).
    private func readLeftover(_ r: ByteRange) -> Bool {
        if readBuffer == nil { readBuffer = .allocate(byteCount: 1 << 20, alignment: 4096) }
        let buf = readBuffer!
        var at = r.start
        while at < r.end {
            let n: Int
            do {
                n = try content.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[0..<Int(r.end - at)]), at: at)
            } catch {
                finish(.failed(error))
                return false
            }
            if n == 0 {
                finish(.failed(HubError(.store, "partial file is shorter than its journal says")))
                return false
            }
            let piece = UnsafeRawBufferPointer(rebasing: buf[0..<n])
            hasher.update(piece)
            chunk?.update(piece)
            at += Int64(n)
        }
        return true
    }

    /// How far hashed bytes can go to the writer now: all of them at the end, else down to the write alignment.
    private var handOffPoint: Int64 { hashedTo == size ? size : hashedTo / 4096 * 4096 }

    /// Hands `handedTo ..< end` to the writer, split where the bytes lie (window or disk).
    private func handOff(upTo end: Int64) {
        guard end > handedTo else { return }
        var pieces: [WindowWriter.Piece] = []
        var at = handedTo
        while at < end {
            if let l = onDisk.range(containing: at) {
                pieces.append(.init(range: ByteRange(at, min(end, l.end)), inWindow: false))
            } else {
                let next = onDisk.start(after: at) ?? end
                pieces.append(.init(range: ByteRange(at, min(end, next)), inWindow: true))
            }
            at = pieces.last!.range.end
        }
        handedTo = end
        writer.store(pieces)
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
            wantedTo = start
            chunk = Digest(.sha256)
            halted = true
            // Whatever was on disk there is refetched into the window.
            onDisk.remove(ByteRange(start, min(start + cs, size)))
            onResult(.chunkFailed(ByteRange(start, min(start + cs, size))))
            return false
        }
        chunkList.append(digest)
        chunk = Digest(.sha256)
        if expected != nil {
            atChunkStart = hasher.copy()
            handOff(upTo: hashedTo)
        }
        return true
    }

    private func finish(_ outcome: HashOutcome) {
        cancelled = true
        onResult(outcome)
    }
}
