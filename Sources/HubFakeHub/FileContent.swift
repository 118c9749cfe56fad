import Foundation
import HubCore
import HubDigest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FakeHub {
    /// Where a fake file's bytes come from.
    public enum FileContent: Sendable, Hashable, CustomStringConvertible {
        /// Bytes held in memory.
        case bytes([UInt8])
        /// A file on disk, read with `pread` in 1 MiB pieces while serving (for multi-GiB files).
        case file(path: String)
        /// Deterministic pseudo-random bytes generated on the fly at any offset (no memory needed).
        case pattern(seed: UInt64, size: Int64)

        /// UTF-8 text.
        public static func text(_ text: String) -> FileContent { .bytes(Array(text.utf8)) }

        /// The content size in bytes.
        public func size() throws -> Int64 {
            switch self {
            case .bytes(let b): return Int64(b.count)
            case .pattern(_, let size): return size
            case .file(let path):
                var st = stat()
                guard stat(path, &st) == 0 else { throw FakeHubError("cannot stat '\(path)': errno \(errno)") }
                return Int64(st.st_size)
            }
        }

        /// Materializes the bytes in `range` (clamped to the content), e.g. to compare with a download.
        public func bytes(in range: Range<Int64>) throws -> [UInt8] {
            let total = try size()
            let lower = max(0, min(range.lowerBound, total))
            let upper = max(lower, min(range.upperBound, total))
            let count = Int(upper - lower)
            var out = [UInt8](repeating: 0, count: count)
            if count == 0 { return out }
            try out.withUnsafeMutableBytes { try read(at: lower, into: $0) }
            return out
        }

        /// All bytes (only sensible for small contents).
        public func allBytes() throws -> [UInt8] { try bytes(in: 0..<(try size())) }

        /// Fills `buffer` with the bytes starting at `offset`; the range must lie inside the content.
        func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws {
            switch self {
            case .bytes(let b):
                b.withUnsafeBytes { src in
                    buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[Int(offset)..<Int(offset) + buffer.count]))
                }
            case .pattern(let seed, _):
                Self.fillPattern(seed: seed, offset: offset, into: buffer)
            case .file(let path):
                let fd = open(path, O_RDONLY)
                guard fd >= 0 else { throw FakeHubError("cannot open '\(path)': errno \(errno)") }
                defer { close(fd) }
                try ContentReader.readFully(fd: fd, path: path, at: offset, into: buffer)
            }
        }

        /// A reader that keeps a file open across pieces.
        func makeReader() throws -> ContentReader { try ContentReader(self) }

        public var description: String {
            switch self {
            case .bytes(let b): return "bytes(\(b.count))"
            case .file(let path): return "file(\(path))"
            case .pattern(let seed, let size): return "pattern(seed: \(seed), size: \(size))"
            }
        }

        /// Generates the pattern's bytes at `offset`: word `i` (8 bytes, little endian) is splitmix64 of
        /// `seed + (i + 1) * golden`, so any offset can be produced without generating what precedes it.
        static func fillPattern(seed: UInt64, offset: Int64, into buffer: UnsafeMutableRawBufferPointer) {
            guard buffer.count > 0 else { return }
            @inline(__always) func word(_ i: UInt64) -> UInt64 {
                var z = seed &+ (i &+ 1) &* 0x9E37_79B9_7F4A_7C15
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return (z ^ (z >> 31)).littleEndian
            }
            var pos = 0
            var abs = UInt64(offset)
            // Leading partial word.
            let lead = Int(abs % 8)
            if lead != 0 {
                var w = word(abs / 8)
                withUnsafeBytes(of: &w) { wb in
                    let n = min(8 - lead, buffer.count)
                    for k in 0..<n { buffer[k] = wb[lead + k] }
                    pos = n
                }
                abs += UInt64(pos)
            }
            // Whole words.
            while buffer.count - pos >= 8 {
                let w = word(abs / 8)
                buffer.storeBytes(of: w, toByteOffset: pos, as: UInt64.self)
                pos += 8
                abs += 8
            }
            // Trailing partial word.
            if pos < buffer.count {
                var w = word(abs / 8)
                withUnsafeBytes(of: &w) { wb in
                    for k in 0..<(buffer.count - pos) { buffer[pos + k] = wb[k] }
                }
            }
        }
    }
}

/// Reads pieces of a content; for `.file` the descriptor stays open until the reader is released.
final class ContentReader: @unchecked Sendable {
    let content: FakeHub.FileContent
    private var fd: Int32 = -1

    init(_ content: FakeHub.FileContent) throws {
        self.content = content
        if case .file(let path) = content {
            fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw FakeHubError("cannot open '\(path)': errno \(errno)") }
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard case .file(let path) = content else { return try content.read(at: offset, into: buffer) }
        try Self.readFully(fd: fd, path: path, at: offset, into: buffer)
    }

    /// Fills `buffer` from `offset` of an open file, retrying short reads and EINTR.
    static func readFully(fd: Int32, path: String, at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FakeHubError("cannot read '\(path)': errno \(errno)")
            }
            if n == 0 { throw FakeHubError("'\(path)' is shorter than expected (changed on disk?)") }
            done += n
        }
    }
}

/// Content hashes, computed once per content (files keyed by path, size and mtime) and shared process-wide.
enum ContentHashes {
    struct Result: Sendable { var sha256: String; var gitSHA1: String? }

    private struct Key: Hashable { var content: FakeHub.FileContent; var mtime: Int64 }
    private static let cache = Locked<[Key: Result]>([:])

    static func compute(_ content: FakeHub.FileContent, size: Int64, gitBlob: Bool) throws -> Result {
        var mtime: Int64 = 0
        if case .file(let path) = content {
            var st = stat()
            guard stat(path, &st) == 0 else { throw FakeHubError("cannot stat '\(path)': errno \(errno)") }
            #if canImport(Darwin)
            mtime = Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
            #else
            mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
            #endif
        }
        // In-memory contents are hashed each time (caching would keep their bytes alive).
        var cacheable = true
        if case .bytes = content { cacheable = false }
        let key = Key(content: content, mtime: mtime)
        if cacheable, let hit = cache.withLock({ $0[key] }), hit.gitSHA1 != nil || !gitBlob { return hit }
        let hasher = ContentHasher(size: size, gitBlob: gitBlob)
        let reader = try content.makeReader()
        let piece = 1 << 20
        var buffer = [UInt8](repeating: 0, count: piece)
        var offset: Int64 = 0
        while offset < size {
            let n = Int(min(Int64(piece), size - offset))
            try buffer.withUnsafeMutableBytes { try reader.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<n])) }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += Int64(n)
        }
        let (sha256, sha1) = hasher.finish()
        let result = Result(sha256: sha256, gitSHA1: sha1)
        if cacheable { cache.withLock { $0[key] = result } }
        return result
    }
}


/// An error of the fake hub itself (bad setup, timeouts while waiting for requests).
public struct FakeHubError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
