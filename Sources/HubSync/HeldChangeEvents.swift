import Foundation
import HubCore
import HubTransfer

/// Passes transfer events on, except a file's failure because it changed upstream: that one waits,
/// because the sync lists the revision again and fetches the new state. Then it is reported as the
/// retry it is; only if the sync gives up is it reported as the failure.
final class HeldChangeEvents: @unchecked Sendable {
    private let next: @Sendable (TransferEvent) -> Void
    private let lock = NSLock()
    private var held: [(label: String, error: HubError)] = []

    init(_ next: @escaping @Sendable (TransferEvent) -> Void) { self.next = next }

    var handle: @Sendable (TransferEvent) -> Void {
        { [self] event in
            if case .fileFailed(let label, let error) = event, error.kind == .upstreamChanged {
                lock.withLock { held.append((label, error)) }
            } else {
                next(event)
            }
        }
    }

    func releaseAsRetries(listing revision: String) {
        for h in take() { next(.retrying(label: h.label, message: "\(h.error.message); listing \(revision) again", delay: 0)) }
    }

    func releaseAsFailures() {
        for h in take() { next(.fileFailed(label: h.label, error: h.error)) }
    }

    private func take() -> [(label: String, error: HubError)] {
        lock.withLock {
            defer { held = [] }
            return held
        }
    }
}
