import Testing
import Foundation
import HubCore

@Suite struct HubErrorCauseTests {
    struct Underlying: Error, CustomStringConvertible {
        var description: String
    }

    @Test func messageAndDescriptionAreUnchangedByACause() {
        let e = HubError(.store, "cannot fsync /s/x: Input/output error", cause: .errno(EIO, operation: "fsync", path: "/s/x"))
        #expect(e.message == "cannot fsync /s/x: Input/output error")
        #expect(e.description == e.message)
        #expect("\(e)" == e.message)
    }

    @Test func locationIsTheCallersFileAndLine() {
        let line = #line + 1
        let e = HubError(.usage, "x")
        #expect(e.location == "HubCoreTests/HubErrorCauseTests.swift:\(line)")
    }

    @Test func errnoCauseRecordsCodeTextOperationAndPath() {
        let c = HubError.Cause.errno(ENOENT, operation: "open", path: "/nope")
        #expect(c.errno == ENOENT)
        #expect(c.description == String(cString: strerror(ENOENT)))
        #expect(c.operation == "open")
        #expect(c.path == "/nope")
        #expect(c.type == nil)
        #expect(c.cause == nil)
    }

    @Test func wrappingKeepsTheOldMessageAndTheErrorAsCause() {
        let e = HubError(.protocolViolation, "revision info is malformed", wrapping: Underlying(description: "bad key 'sha'"))
        #expect(e.message == "revision info is malformed: bad key 'sha'")
        #expect(e.cause?.description == "bad key 'sha'")
        #expect(e.cause?.type?.hasSuffix("Underlying") == true)
        #expect(e.cause?.errno == nil)
    }

    @Test func aWrappedHubErrorBringsItsOwnCauseAndLocation() {
        let inner = HubError(.store, "cannot write /s/p: No space left", cause: .errno(ENOSPC, operation: "write", path: "/s/p"))
        let outer = HubError(.store, "cannot stage a.bin", wrapping: inner)
        #expect(outer.cause?.type == "HubError.store")
        #expect(outer.cause?.location == inner.location)
        #expect(outer.cause?.cause == inner.cause)
        #expect(outer.cause?.cause?.errno == ENOSPC)
    }

    @Test func equalityComparesCauseButNotLocation() {
        let a = HubError(.store, "m", cause: .errno(EIO, operation: "fsync", path: "/p"))
        let b = HubError(.store, "m", cause: .errno(EIO, operation: "fsync", path: "/p"))
        #expect(a.location != b.location)
        #expect(a == b, "the same failure raised from two places")
        #expect(a != HubError(.store, "m"), "a cause makes a difference")
        #expect(a != HubError(.store, "m", cause: .errno(EIO, operation: "fsync", path: "/q")))
        #expect(a != HubError(.store, "m", cause: .errno(ENOSPC, operation: "fsync", path: "/p")))
        #expect(HubError(.usage, "x") == HubError(.usage, "x"))
        #expect(HubError(.usage, "x") != HubError(.config, "x"))
    }

    @Test func detailedDescriptionPrintsATree() {
        let e = HubError(.store, "cannot fsync /s/x.tmp: Input/output error",
                         cause: .errno(EIO, operation: "fsync", path: "/s/x.tmp"), fileID: "HubStore/FileSystem.swift", line: 64)
        let io = String(cString: strerror(EIO))
        #expect(e.detailedDescription == """
            HubError.store (exit 42): cannot fsync /s/x.tmp: Input/output error
            ├─ Cause: \(io) (errno \(EIO))
            │  ├─ Operation: fsync
            │  └─ Path: /s/x.tmp
            └─ Location: HubStore/FileSystem.swift:64
            """)
    }

    @Test func detailedDescriptionPrintsAChainAndRetryAdvice() {
        let inner = HubError(.network, "GET /x failed: reset", cause: HubError.Cause("Connection reset\nby peer", type: "IOError"),
                             fileID: "HubHTTP/HTTPClient.swift", line: 9)
        let outer = HubError(.http, "listing failed", wrapping: inner, fileID: "HubAPI/HubAPIClient.swift", line: 3)
        let plain = HubError(.rateLimited, "slow down", retryAfter: 3, fileID: "M/F.swift", line: 1)
        #expect(outer.detailedDescription == """
            HubError.http (exit 22): listing failed: GET /x failed: reset
            ├─ Cause: HubError.network: GET /x failed: reset
            │  ├─ Cause: IOError: Connection reset
            │  │  by peer
            │  └─ Location: HubHTTP/HTTPClient.swift:9
            └─ Location: HubAPI/HubAPIClient.swift:3
            """)
        #expect(plain.detailedDescription == """
            HubError.rateLimited (exit 20): slow down
            ├─ Retry after: 3.0 s
            └─ Location: M/F.swift:1
            """)
    }
}
