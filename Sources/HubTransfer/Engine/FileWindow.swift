#if canImport(Glibc)
import Glibc
#endif
import CMemory
import HubCore
import HubStore

/// The memory one file's bytes wait in between the socket and the disk: a ring of `capacity` bytes
/// holding file offsets `storedTo ..< storedTo + capacity` at `offset % capacity`. Requests copy their
/// body bytes in (engine thread), the hasher hashes them from here in order and the writer writes them
/// out from here, so no byte is read back from the disk. The file's state machine only starts requests
/// whose bytes fit (`FileTransfer.Window`), which is what keeps a slot from being reused before its
/// bytes are stored. Page-aligned, so slices can be written with O_DIRECT.
final class FileWindow: @unchecked Sendable {
    let capacity: Int
    private let memory: UnsafeMutableRawBufferPointer
    /// The mapping `memory` lies in, when it was mapped (huge pages) rather than allocated.
    private let mapping: (base: UnsafeMutableRawPointer, length: Int)?

    /// Windows of at least this size are mapped on 2 MiB boundaries and asked to be backed by huge
    /// pages: every O_DIRECT write pins its pages (`get_user_pages`), 512 times fewer with 2 MiB pages.
    static let hugePage = 2 << 20

    /// - Parameter capacity: a multiple of `alignment`.
    init(capacity: Int, alignment: Int = 4096) {
        precondition(capacity > 0 && capacity % alignment == 0)
        self.capacity = capacity
        if capacity >= Self.hugePage, let m = Self.mapHuge(capacity) {
            mapping = (m.base, m.length)
            memory = UnsafeMutableRawBufferPointer(start: m.start, count: capacity)
        } else {
            mapping = nil
            memory = .allocate(byteCount: capacity, alignment: alignment)
        }
    }

    deinit {
        if let m = mapping { munmap(m.base, m.length) } else { memory.deallocate() }
    }

    /// An anonymous mapping with room for `capacity` bytes from a 2 MiB boundary (`start`), huge pages
    /// asked for (a hint: where the kernel does not give them the window works the same, with small pages).
    private static func mapHuge(_ capacity: Int) -> (base: UnsafeMutableRawPointer, length: Int, start: UnsafeMutableRawPointer)? {
        let length = capacity + hugePage
        guard let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              base != MAP_FAILED,
              let start = UnsafeMutableRawPointer(bitPattern: (Int(bitPattern: base) + hugePage - 1) / hugePage * hugePage) else { return nil }
        _ = madvise(start, capacity, MADV_HUGEPAGE)
        return (base, length, start)
    }

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

    /// Writes the bytes of `range` from here to `content` at their offsets, through the page cache.
    func store(_ range: ByteRange, into content: any StagedContent) throws(HubError) {
        var at = range.start
        for s in slices(range) {
            try content.write(UnsafeRawBufferPointer(s), at: at)
            at += Int64(s.count)
        }
    }

    /// Copies `bytes` in as the file's bytes from `offset`, with non-temporal stores: the hasher on
    /// another core reads them next and the device writes them out, so leaving them dirty in this
    /// core's cache (and reading the old contents in first) only costs.
    func copy(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
        precondition(bytes.count <= capacity)
        guard let src = bytes.baseAddress else { return }
        // The slices without `slices(_:)`'s array: this runs once per curl callback.
        let start = Int(offset % Int64(capacity))
        let first = min(bytes.count, capacity - start)
        hm_copy_nontemporal(memory.baseAddress! + start, src, first)
        if first < bytes.count { hm_copy_nontemporal(memory.baseAddress!, src + first, bytes.count - first) }
    }
}
