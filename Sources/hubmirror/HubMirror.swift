import ArgumentParser
import Foundation
import HubCore
import HubHTTP

@main
struct HubMirror: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubmirror",
        abstract: "Mirror Hugging Face Hub repositories: verified, resumable, boring to operate.",
        discussion: "Exit codes are listed in Docs/exit-codes.md. Tokens are never logged.",
        version: "0.1.0",
        subcommands: [SyncCommand.self, DiffCommand.self, MirrorCommand.self, ServeCommand.self, ListCommand.self, VerifyCommand.self, GCCommand.self, ReplicateCommand.self,
                      ExportCommand.self, ImportCommand.self, StateCommand.self, KeygenCommand.self, BundleCommand.self]
    )

    /// Runs a command body, turning HubErrors into a message on stderr and their exit code.
    static func guarded(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as HubError {
            Console.error(e.message)
            throw ExitCode(e.exitCode)
        }
    }
}
