import HubCore
import HubHTTP
import HubStore

/// One request in flight: its curl stream, and where its body bytes go: straight into its file's
/// window at their offset (one copy), from where the hasher and the writer take them.
final class RequestRun: StreamingDelegate {
    let id: RequestID
    let file: FileRun
    let source: Int
    let range: ByteRange
    let shared: EngineShared
    /// The window of the file's hasher when the request started (a restart cancels the request).
    let window: FileWindow
    /// Weak: the transfer holds this request strongly as its delegate; the driver holds the transfer.
    weak var stream: StreamingTransfer?
    /// Bytes received into the window up to here.
    var cursor: Int64
    /// Bytes up to here were reported to the file's state machine.
    var reportedTo: Int64
    /// Bytes received but not yet added to the per-source count (done off the per-callback path).
    var unattributed: Int64 = 0
    /// The body ran past the range asked for.
    var overrun: HubError?
    /// Paused because its next bytes do not fit the window yet (a request started ahead of the window,
    /// or the whole-file stream of a server that ignores Range); resumed once they fit.
    var waitingForWindow = false
    /// How many bytes it refused when it paused: curl hands them over first on resuming.
    var refused: Int64 = 0

    init(id: RequestID, file: FileRun, source: Int, range: ByteRange, shared: EngineShared, window: FileWindow) {
        self.id = id
        self.file = file
        self.source = source
        self.range = range
        self.shared = shared
        self.window = window
        cursor = range.start
        reportedTo = range.start
    }

    func transferDidReceiveHeaders(_ t: StreamingTransfer, status: Int, headers: HTTPHeaders) -> Bool {
        file.machine.headersReceived(id, status: status, headers: headers) == nil
    }

    /// Takes body bytes for the request's offset. Runs inside curl's callback.
    func transferDidReceive(_ t: StreamingTransfer, _ bytes: UnsafeRawBufferPointer) -> BodyDisposition {
        let n = Int64(bytes.count)
        if cursor + n > range.end {
            overrun = HubError(.protocolViolation, "\(file.job.label): server sent more bytes than asked for (\(range))")
            return .abort
        }
        if cursor + n > file.storedTo + Int64(window.capacity) {
            waitingForWindow = true
            refused = n
            file.waitingForWindow.append(self)
            return .pause
        }
        if !shared.allowBytes(bytes.count, for: self) { return .pause }
        window.copy(bytes, at: cursor)
        cursor += n
        shared.bytesReceived += n
        unattributed += n
        return .accepted
    }

    /// The bytes it refused fit the window now.
    var fits: Bool { cursor + refused <= file.storedTo + Int64(window.capacity) }

    /// Bytes received since the last report.
    var unreported: Int64 { cursor - reportedTo }

    /// Adds the bytes received since the last call to the count of this request's source.
    func attribute() {
        guard unattributed > 0 else { return }
        shared.bytesBySource[file.sourceIDs[source], default: 0] += unattributed
        unattributed = 0
    }
}
