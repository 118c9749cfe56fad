import HubCore
import HubHTTP
import HubStore

/// One request in flight: its curl stream, and the gather buffer its body bytes wait in until they
/// are written at their offset in one large write.
final class RequestRun: StreamingDelegate {
    let id: RequestID
    let file: FileRun
    let source: Int
    let range: ByteRange
    let shared: EngineShared
    var stream: StreamingTransfer?
    /// Bytes received up to here (some may still be in `buffer`).
    var cursor: Int64
    /// Bytes written to the staged content up to here.
    var fileCursor: Int64
    /// Bytes up to here were reported to the file's state machine.
    var reportedTo: Int64
    /// Received bytes not yet written: curl hands over 16 KiB at a time, the disk wants large writes.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512 << 10, alignment: 4096)
    var buffered = 0
    /// Bytes received but not yet added to the per-source count (done off the per-callback path).
    var unattributed: Int64 = 0
    /// Writing failed (the request was aborted for it).
    var writeError: HubError?
    /// The body ran past the range asked for.
    var overrun: HubError?

    init(id: RequestID, file: FileRun, source: Int, range: ByteRange, shared: EngineShared) {
        self.id = id
        self.file = file
        self.source = source
        self.range = range
        self.shared = shared
        cursor = range.start
        fileCursor = range.start
        reportedTo = range.start
    }

    deinit { buffer.deallocate() }

    func transferDidReceiveHeaders(_ t: StreamingTransfer, status: Int, headers: HTTPHeaders) -> Bool {
        file.machine.headersReceived(id, status: status, headers: headers) == nil
    }

    /// Takes body bytes for the request's offset. Runs inside curl's callback.
    func transferDidReceive(_ t: StreamingTransfer, _ bytes: UnsafeRawBufferPointer) -> BodyDisposition {
        if !shared.allowBytes(bytes.count, for: self) { return .pause }
        if cursor + Int64(bytes.count) > range.end {
            overrun = HubError(.protocolViolation, "\(file.job.label): server sent more bytes than asked for (\(range))")
            return .abort
        }
        var off = 0
        while off < bytes.count {
            let n = min(bytes.count - off, buffer.count - buffered)
            buffer.baseAddress!.advanced(by: buffered).copyMemory(from: bytes.baseAddress! + off, byteCount: n)
            buffered += n
            off += n
            cursor += Int64(n)
            if buffered == buffer.count, !flush() { return .abort }
        }
        shared.bytesReceived += Int64(bytes.count)
        unattributed += Int64(bytes.count)
        return .accepted
    }

    /// Writes the buffered bytes at their offset. False (with `writeError` set) when writing failed.
    @discardableResult
    func flush() -> Bool {
        guard buffered > 0, writeError == nil else { return writeError == nil }
        do {
            try file.staged.write(UnsafeRawBufferPointer(rebasing: buffer[0..<buffered]), at: fileCursor)
        } catch {
            writeError = error
            buffered = 0
            cursor = fileCursor
            return false
        }
        fileCursor += Int64(buffered)
        buffered = 0
        return true
    }

    /// Adds the bytes received since the last call to the count of this request's source.
    func attribute() {
        guard unattributed > 0 else { return }
        shared.bytesBySource[file.sourceIDs[source], default: 0] += unattributed
        unattributed = 0
    }
}
