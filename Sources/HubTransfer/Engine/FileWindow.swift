import HubCore

/// The memory one file's bytes wait in between the socket and the disk: a ring of `capacity` bytes
/// holding file offsets `storedTo ..< storedTo + capacity` at `offset % capacity`. Requests copy their
/// body bytes in (engine thread), the hasher hashes them from here in order and the writer writes them
/// out from here, so no byte is read back from the disk. The file's state machine only starts requests
/// whose bytes fit (`FileTransfer.Window`), which is what keeps a slot from being reused before its
/// bytes are stored. Page-aligned, so slices can be written with O_DIRECT.
final class FileWindow: @unchecked Sendable {
    let capacity: Int
    private let memory: UnsafeMutableRawBufferPointer

    /// - Parameter capacity: a multiple of `alignment`.
    init(capacity: Int, alignment: Int = 4096) {
        precondition(capacity > 0 && capacity % alignment == 0)
        self.capacity = capacity
        memory = .allocate(byteCount: capacity, alignment: alignment)
    }

    deinit { memory.deallocate() }

    /// The capacity for a file of `size` with a window of `bytes`: no more than the file needs.
    static func capacity(size: Int64, bytes: Int64, alignment: Int64 = 4096) -> Int {
        let needed = max(alignment, (size + alignment - 1) / alignment * alignment)
        return Int(min(needed, (bytes + alignment - 1) / alignment * alignment))
    }

    /// The memory holding `range` (at most `capacity` bytes): one slice, or two where it wraps.
    func slices(_ range: ByteRange) -> [UnsafeMutableRawBufferPointer] {
        precondition(range.count <= capacity)
        guard !range.isEmpty else { return [] }
        let start = Int(range.start % Int64(capacity))
        let first = min(Int(range.count), capacity - start)
        var out = [UnsafeMutableRawBufferPointer(rebasing: memory[start..<(start + first)])]
        if first < Int(range.count) { out.append(UnsafeMutableRawBufferPointer(rebasing: memory[0..<(Int(range.count) - first)])) }
        return out
    }

    /// Copies `bytes` in as the file's bytes from `offset`.
    func copy(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
        var done = 0
        for s in slices(ByteRange(offset, offset + Int64(bytes.count))) {
            s.baseAddress!.copyMemory(from: bytes.baseAddress! + done, byteCount: s.count)
            done += s.count
        }
    }
}
