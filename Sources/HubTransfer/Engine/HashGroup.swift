import Foundation

/// The thread that hashes the frontiers of up to `capacity` files (`FrontierHasher`s). With two files
/// whose SHA-256 can be paired (`FrontierHasher.canPair`), their next bytes are hashed side by
/// side, two messages at once, which costs little more than hashing one. Bytes arrive faster than they
/// are hashed only in bursts, so most of the time one file has bytes ready and the other has none yet:
/// those are held for the other file (`Hold`), but briefly and only so many, and never when the other
/// file has gone quiet or is at its end, nor when they are their own file's last. Then they are hashed alone.
final class HashGroup: @unchecked Sendable {
    let queue: DispatchQueue
    /// How many files it takes: 2 where files can be paired, else 1 (a thread per file, as before).
    let capacity: Int
    /// The files it hashes (on `queue`).
    private var lanes: [FrontierHasher] = []
    /// Bytes hashed two files at once, and alone (on `queue`; for the debug log and tests).
    private(set) var pairedBytes: Int64 = 0
    private(set) var aloneBytes: Int64 = 0

    /// How long and how many bytes a file's ready bytes wait for the other file's.
    struct Hold {
        var seconds = 0.05
        var bytes: Int64 = 4 << 20
        /// The other file is waited for only while its bytes arrived this recently.
        var quiet = 0.05
    }
    let hold: Hold
    /// A pump is scheduled for when the bytes held now must go alone.
    private var releaseScheduled = false

    init(capacity: Int, label: String, hold: Hold = Hold()) {
        self.capacity = capacity
        self.hold = hold
        queue = DispatchQueue(label: "hubmirror.hash.\(label)")
    }

    /// Takes `hasher` in (on `queue`).
    func join(_ hasher: FrontierHasher) {
        dispatchPrecondition(condition: .onQueue(queue))
        lanes.append(hasher)
    }

    /// Lets go of files that are done (on `queue`).
    func dropRetired() {
        lanes.removeAll { $0.isRetired }
    }

    /// Hashes what its files have ready until none has more (on `queue`).
    func pump() {
        dispatchPrecondition(condition: .onQueue(queue))
        while true {
            dropRetired()
            let ready = lanes.filter(\.hasWork)
            guard let first = ready.first else { return }
            if ready.count >= 2 {
                let (a, b) = (ready[0], ready[1])
                let n = min(a.pairableCount, b.pairableCount)
                if n > 0 {
                    FrontierHasher.hashPaired(a, b, count: n)
                    pairedBytes += 2 * n
                    continue
                }
                aloneBytes += a.step() + b.step()
                continue
            }
            if let other = lanes.first(where: { $0 !== first }), let until = holdUntil(first, for: other) {
                scheduleRelease(at: until)
                return
            }
            aloneBytes += first.step()
        }
    }

    /// Until when `lane`'s ready bytes wait for `other`'s, or nil: hash them now.
    private func holdUntil(_ lane: FrontierHasher, for other: FrontierHasher) -> Double? {
        guard lane.pairableCount > 0, lane.backlog < hold.bytes, !lane.hasItsLastBytes, other.mayPairSoon else { return nil }
        let now = TransferEngine.now()
        guard now - other.lastAdvanced < hold.quiet else { return nil }
        let until = lane.readySince + hold.seconds
        return until > now ? until : nil
    }

    private func scheduleRelease(at time: Double) {
        guard !releaseScheduled else { return }
        releaseScheduled = true
        queue.asyncAfter(deadline: .now() + max(0, time - TransferEngine.now())) { [self] in
            releaseScheduled = false
            pump()
        }
    }
}
