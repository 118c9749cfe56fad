import Foundation
import HubCore
import HubStore
import HubTransfer

/// Shows a running sync: a progress bar on a terminal, plain log lines otherwise, or
/// newline-delimited JSON events with `--json`.
final class Reporter: @unchecked Sendable {
    enum Mode { case json, tty, plain }
    let mode: Mode
    private let lock = NSLock()
    private let started = Date()
    private var lastBar = Date.distantPast

    init(json: Bool) {
        mode = json ? .json : (Console.stderrIsTTY ? .tty : .plain)
    }

    /// One NDJSON line on stdout.
    func emit(_ event: String, _ fields: [String: any Sendable]) {
        var obj: [String: Any] = fields
        obj["event"] = event
        guard let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        Console.out(String(decoding: data, as: UTF8.self))
    }

    func info(_ s: String) {
        switch mode {
        case .json: break
        case .tty: Console.clearStatus(); Console.err(s)
        case .plain: Console.err(s)
        }
    }

    func handle(_ e: TransferEvent) {
        lock.withLock {
            switch (mode, e) {
            case (.json, .fileStarted(let label, let size, let resumed)):
                emit("file_started", ["file": label, "size": size, "resumed_bytes": resumed])
            case (.json, .journaled(let label, let bytes)):
                emit("journaled", ["file": label, "bytes": bytes])
            case (.json, .retrying(let label, let message, let delay)):
                emit("retry", ["file": label, "message": message, "delay": delay])
            case (.json, .corrupted(let label, let source, let attempt)):
                emit("corrupted", ["file": label, "source": source, "attempt": attempt])
            case (.json, .fileVerified(let label, let sha)):
                emit("file_verified", ["file": label, "sha256": sha])
            case (.json, .fileFailed(let label, let error)):
                emit("file_failed", ["file": label, "kind": error.kind.rawValue, "message": error.message])
            case (.json, .progress(let received, let total)):
                emit("progress", ["received": received, "total": total])
            case (_, .progress(let received, let total)):
                guard mode == .tty, Date().timeIntervalSince(lastBar) >= 0.2 else { return }
                lastBar = Date()
                Console.status(bar(received: received, total: total))
            case (_, .fileStarted(let label, let size, let resumed)) where resumed > 0:
                info("resuming \(label): \(ByteSize.format(resumed)) of \(ByteSize.format(size)) already on disk")
            case (_, .retrying(_, let message, let delay)):
                info("warning: \(message); retry in \(String(format: "%.1f", delay)) s")
            case (_, .corrupted(let label, let source, let attempt)):
                info("warning: \(label): content from \(source) failed verification (attempt \(attempt)); fetching it again")
            case (_, .fileVerified(let label, let sha)):
                if mode == .plain { info("verified \(label) sha256=\(sha.prefix(16))…") }
            case (_, .fileFailed(let label, let error)):
                info("failed \(label): \(error.message)")
            default:
                break
            }
        }
    }

    func bar(received: Int64, total: Int64) -> String {
        let secs = max(0.001, Date().timeIntervalSince(started))
        let rate = Double(received) / secs
        let frac = total > 0 ? min(1, Double(received) / Double(total)) : 1
        let width = 30
        let filled = Int(frac * Double(width))
        let eta = rate > 0 && total > received ? String(format: " ETA %.0fs", Double(total - received) / rate) : ""
        return "[\(String(repeating: "=", count: filled))\(String(repeating: " ", count: width - filled))] \(Int(frac * 100))% \(ByteSize.format(received))/\(ByteSize.format(total)) \(ByteSize.format(Int64(rate)))/s\(eta)"
    }

    func finishBar() { if mode == .tty { Console.clearStatus() } }
}
