import Foundation
import HubCore
import HubStore

/// Writes a file's hashed bytes from its window to the staged content, in order, on its own queue
/// (so the disk works while the next bytes are hashed), and tells how far the stored prefix reaches:
/// the window slots below it are free again. Aligned blocks go out with O_DIRECT when the content
/// takes it (no copy into the page cache); the unaligned edges of a range, and everything when the file
/// system refuses O_DIRECT, go through the page cache, with writeback started at once when durable.
final class WindowWriter: @unchecked Sendable {
    /// A range to store: its bytes are in the window, or (a leftover of an earlier run) already on disk.
    struct Piece: Equatable {
        var range: ByteRange
        var inWindow: Bool
    }

    private let queue: DispatchQueue
    private let content: any StagedContent
    private let window: FileWindow
    /// The alignment of direct writes; nil: buffered writes only.
    private let alignment: Int64?
    private let durable: Bool
    private var cancelled = false
    private var storedTo: Int64 = 0
    private let onStored: @Sendable (Int64) -> Void
    private let onResult: @Sendable (HashOutcome) -> Void

    init(content: any StagedContent, window: FileWindow, direct: Bool, durable: Bool, label: String,
         onStored: @escaping @Sendable (Int64) -> Void, onResult: @escaping @Sendable (HashOutcome) -> Void) {
        self.content = content
        self.window = window
        alignment = direct ? content.directAlignment.map(Int64.init) : nil
        self.durable = durable
        self.onStored = onStored
        self.onResult = onResult
        queue = DispatchQueue(label: "hubmirror.store.\(label)")
    }

    /// Stores `pieces` (consecutive, from the end of the last call) after what was queued before.
    func store(_ pieces: [Piece]) {
        queue.async { [self] in
            guard !cancelled else { return }
            for p in pieces {
                if p.inWindow {
                    do throws(HubError) { try write(p.range) } catch {
                        fail(error)
                        return
                    }
                }
                storedTo = p.range.end
            }
            onStored(storedTo)
        }
    }

    /// After everything queued is stored: made durable when asked, then `outcome` is reported.
    func finish(_ outcome: HashOutcome) {
        queue.async { [self] in
            guard !cancelled else { return }
            // Durable before it can be published; done here so the transfer thread never blocks on the disk.
            if durable {
                do throws(HubError) { try content.syncData() } catch {
                    fail(error)
                    return
                }
            }
            cancelled = true
            onResult(outcome)
        }
    }

    /// Stops writing; returns once no write is under way.
    func cancel() { queue.sync { cancelled = true } }

    private func fail(_ e: HubError) {
        cancelled = true
        onResult(.failed(e))
    }

    private func write(_ r: ByteRange) throws(HubError) {
        guard let a = alignment, content.directAlignment != nil else {
            try window.store(r, into: content)
            if durable { content.startWriteback(offset: r.start, count: r.count) }
            return
        }
        let head = min(r.end, (r.start + a - 1) / a * a)
        let tail = max(head, r.end / a * a)
        try window.store(ByteRange(r.start, head), into: content)
        var at = head
        for s in window.slices(ByteRange(head, tail)) {
            try content.writeDirect(UnsafeRawBufferPointer(s), at: at)
            at += Int64(s.count)
        }
        try window.store(ByteRange(tail, r.end), into: content)
    }
}
