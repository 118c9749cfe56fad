import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT / SIGTERM ask a running sync to stop: the engine keeps partial data and journals,
/// and the process exits with 130.
final class StopFlag: @unchecked Sendable {
    static let shared = StopFlag()
    private let lock = NSLock()
    private var stopped = false
    private var sources: [any DispatchSourceSignal] = []

    var isSet: Bool { lock.withLock { stopped } }

    func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [self] in
                let again = lock.withLock { () -> Bool in
                    let was = stopped
                    stopped = true
                    return was
                }
                // A second signal means "now".
                if again { _exit(130) }
            }
            s.resume()
            sources.append(s)
        }
    }
}
