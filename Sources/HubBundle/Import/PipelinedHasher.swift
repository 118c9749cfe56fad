import Foundation
import HubDigest

/// Hashes a blob on a second thread while the importing thread reads the next bytes and writes them
/// to the store, so verifying costs little more wall time than copying (the machine has cores to
/// spare; SHA-256 alone is slower than the copy). Bytes are copied into a small ring of slots; the
/// hasher frees each slot when it is done with it.
final class PipelinedHasher: @unchecked Sendable {
    private let hasher: ContentHasher
    private let slotSize: Int
    private let slots: [UnsafeMutableRawBufferPointer]
    private let condition = NSCondition()
    /// Filled slots waiting for the hasher, in order: (slot index, byte count).
    private var queue: [(Int, Int)] = []
    private var free: [Int]
    private var finished = false
    private var done = false
    private var thread: Thread?

    init(_ hasher: ContentHasher, slots count: Int = 4, slotSize: Int = 1 << 20) {
        self.hasher = hasher
        self.slotSize = slotSize
        slots = (0..<count).map { _ in .allocate(byteCount: slotSize, alignment: 64) }
        free = Array(0..<count)
        let t = Thread { [unowned self] in self.work() }
        t.name = "hubmirror.import.hash"
        thread = t
        t.start()
    }

    deinit { for s in slots { s.deallocate() } }

    /// Queues a copy of `bytes` for hashing, waiting for a free slot when all are taken.
    func update(_ bytes: UnsafeRawBufferPointer) {
        var at = 0
        while at < bytes.count {
            let n = min(slotSize, bytes.count - at)
            condition.lock()
            while free.isEmpty { condition.wait() }
            let slot = free.removeLast()
            condition.unlock()
            slots[slot].baseAddress!.copyMemory(from: bytes.baseAddress! + at, byteCount: n)
            condition.lock()
            queue.append((slot, n))
            condition.broadcast()
            condition.unlock()
            at += n
        }
    }

    /// Waits for every queued byte to be hashed and returns the digests. Call once.
    func finish() -> (sha256: String, gitBlobID: String?) {
        condition.lock()
        finished = true
        condition.broadcast()
        while !done { condition.wait() }
        condition.unlock()
        return hasher.finish()
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !finished { condition.wait() }
            if queue.isEmpty && finished {
                done = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let (slot, n) = queue.removeFirst()
            condition.unlock()
            hasher.update(UnsafeRawBufferPointer(rebasing: slots[slot][0..<n]))
            condition.lock()
            free.append(slot)
            condition.broadcast()
            condition.unlock()
        }
    }
}
