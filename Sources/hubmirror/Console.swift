import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where hubmirror writes: results to stdout, messages and progress to stderr.
enum Console {
    static let lock = NSLock()
    static var stderrIsTTY: Bool { isatty(2) == 1 }

    static func out(_ s: String) {
        lock.withLock {
            FileHandle.standardOutput.write(Data((s + "\n").utf8))
        }
    }

    static func err(_ s: String) {
        lock.withLock {
            FileHandle.standardError.write(Data((s + "\n").utf8))
        }
    }

    static func error(_ s: String) { err("error: \(s)") }

    /// Rewrites the current stderr line (progress bars on a terminal).
    static func status(_ s: String) {
        lock.withLock {
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(s)".utf8))
        }
    }

    static func clearStatus() {
        lock.withLock { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
