internal import Foundation
internal import HubCore
internal import NIOCore
#if canImport(Glibc)
internal import Glibc
#endif

/// The address `serve` listens on, checked before binding, and bind failures as `HubError`s naming
/// it (NIO's own errors name neither the host nor the port).
enum ListenAddress {
    /// Throws `.usage` naming `--host` when `host` is neither an IP address nor a name this machine resolves.
    static func check(host: String, port: Int) throws {
        do {
            _ = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch let e as SocketAddressError.UnknownHost {
            throw unknownHost(host, port: port, why: e.errorDescription)
        } catch {
            throw unknownHost(host, port: port, why: "\(error)", cause: error)
        }
    }

    static func unknownHost(_ host: String, port: Int, why: String?, cause: (any Error)? = nil) -> HubError {
        HubError(.usage, "cannot listen on \(HubServerAddress(host: host, port: port).hostPort): --host '\(host)' is not an IP address "
                 + "or a host name this machine can resolve" + (why.map { " (\($0))" } ?? ""), cause: cause.map { .init($0) })
    }

    /// A failure to bind `host:port` as `.listen`, saying why; nil for errors that are not about binding.
    static func bindFailure(_ error: any Error, host: String, port: Int) -> HubError? {
        let address = HubServerAddress(host: host, port: port).hostPort
        if let e = error as? IOError {
            let why: String
            switch e.errnoCode {
            case EADDRINUSE: why = "the port is already in use (another server is listening there)"
            case EACCES: why = "permission denied (ports below 1024 need privileges)"
            case EADDRNOTAVAIL: why = "\(host) is not an address of this machine"
            default: why = String(cString: strerror(e.errnoCode))
            }
            return HubError(.listen, "cannot listen on \(address): \(why)")
        }
        if error is SocketAddressError || error is SocketAddressError.UnknownHost {
            return unknownHost(host, port: port, why: nil)
        }
        return nil
    }
}

extension HubServerAddress {
    /// `127.0.0.1:8080`, `[::1]:8080`.
    var hostPort: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
