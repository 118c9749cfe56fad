import Foundation
import HubCore
import HubFakeHub
import Testing

@Suite struct FaultTests {
    @Test func statusFaultFiresTimesThenIsSpent() async throws {
        try await withTinyHub(cdn: false) { hub, _ in
            let id = hub.addFault(.init(.hub, match: .file("README.md"), times: 2, action: .status(503)))
            let url = "\(hub.endpoint)/acme/tiny/resolve/main/README.md"
            let first = try await curl(url)
            #expect(first.status == 503 && first.body.isEmpty)
            #expect(try await curl("-I", url).status == 503)
            #expect(try await curl(url).status == 200)
            #expect(hub.firedCount(id) == 2)
            #expect(hub.requests.map(\.status) == [503, 503, 200])
            #expect(hub.requests[0].fault == .status(503) && hub.requests[2].fault == nil)
            // Other files are not matched.
            hub.addFault(.init(match: .file("README.md"), action: .status(500)))
            #expect(try await curl("-I", "\(hub.endpoint)/acme/tiny/resolve/main/model.bin").status == 200)
        }
    }

    @Test func tooManyRequestsCarriesRetryAfter() async throws {
        try await withTinyHub(cdn: false) { hub, _ in
            hub.addFault(.init(match: .rawPathContains("/tree/"), action: .tooManyRequests(retryAfter: 3)))
            let limited = try await curl("\(hub.endpoint)/api/models/acme/tiny/tree/main")
            #expect(limited.status == 429 && limited.header("retry-after") == "3")
            #expect(try await curl("\(hub.endpoint)/api/models/acme/tiny/tree/main").status == 200)
        }
    }

    @Test func resetAfterCutsTheBodyAbruptlyWithExactAccounting() async throws {
        try await withTinyHub(cdn: false) { hub, _ in
            let cut = 2_621_440  // more than two 1 MiB pieces
            hub.addFault(.init(match: .file("model.bin"), action: .resetAfter(bytes: cut)))
            let r = try await curl("\(hub.endpoint)/acme/tiny/resolve/main/model.bin")
            #expect(r.status == 200)
            #expect(r.exitCode == 56, "curl: \(r.stderr)")  // CURLE_RECV_ERROR: connection reset by peer
            #expect(r.header("content-length") == String(bigSize))
            #expect(r.body == (try bigContent.bytes(in: 0..<Int64(cut))))
            let logged = try await hub.waitForRequests(phase: .completed) { $0.filePath == "model.bin" }
            #expect(logged[0].bytesSent == Int64(cut))
            #expect(hub.bytesSent(path: "model.bin") == Int64(cut))
            // The next request is served in full.
            #expect(try await curl("\(hub.endpoint)/acme/tiny/resolve/main/model.bin").body.count == Int(bigSize))
        }
    }

    @Test func truncateAfterClosesCleanlyMidBody() async throws {
        try await withTinyHub(cdn: false) { hub, _ in
            hub.addFault(.init(match: .file("model.bin"), range: .ranged, action: .truncateAfter(bytes: 1000)))
            let r = try await curl("-r", "100-", "\(hub.endpoint)/acme/tiny/resolve/main/model.bin")
            #expect(r.status == 206)
            #expect(r.exitCode == 18, "curl: \(r.stderr)")  // CURLE_PARTIAL_FILE
            #expect(r.body == (try bigContent.bytes(in: 100..<1100)))
            let logged = try await hub.waitForRequests(phase: .completed) { $0.filePath == "model.bin" }
            #expect(logged[0].bytesSent == 1000 && logged[0].status == 206)
            // Faults work on JSON bodies too.
            hub.addFault(.init(match: .rawPathContains("/tree/main"), action: .truncateAfter(bytes: 5)))
            let tree = try await curl("\(hub.endpoint)/api/models/acme/tiny/tree/main")
            #expect(tree.exitCode == 18 && tree.body.count == 5)
        }
    }

    @Test func corruptByteFlipsExactlyThatOffset() async throws {
        try await withTinyHub(cdn: false) { hub, _ in
            let offset: Int64 = 1_500_000
            hub.addFault(.init(match: .file("model.bin"), times: 3, action: .corruptByte(offset: offset)))
            let url = "\(hub.endpoint)/acme/tiny/resolve/main/model.bin"
            let expected = try bigContent.allBytes()
            let whole = try await curl(url)
            #expect(whole.body.count == expected.count)
            #expect(differingOffsets(whole.body, expected) == [Int(offset)])
            #expect(whole.body[Int(offset)] == expected[Int(offset)] ^ 0xFF)
            let ranged = try await curl("-r", "\(offset - 10)-\(offset + 9)", url)
            #expect(ranged.body.count == 20)
            #expect(differingOffsets(ranged.body, Array(expected[Int(offset - 10)..<Int(offset + 10)])) == [10])
            let elsewhere = try await curl("-r", "0-99", url)
            #expect(elsewhere.body == Array(expected[0..<100]))
        }
    }

    @Test func ignoreRangeAnswersTheWholeBody() async throws {
        try await withTinyHub(cdn: false) { hub, _ in
            let url = "\(hub.endpoint)/acme/tiny/resolve/main/sub/dir/w.bin"
            hub.addFault(.init(match: .file("sub/dir/w.bin"), action: .ignoreRange))
            let ignored = try await curl("-r", "10-19", url)
            #expect(ignored.status == 200 && ignored.body.count == 1000 && ignored.header("content-range") == nil)
            #expect(try await curl("-r", "10-19", url).status == 206)
            hub.ignoreRangeAlways = true
            #expect(try await curl("-r", "10-19", url).status == 200)
        }
    }

    @Test func trickleSlowsTheBody() async throws {
        try await withTinyHub(cdn: false) { hub, _ in
            hub.addFault(.init(match: .file("sub/dir/w.bin"), action: .trickle(bytesPerSecond: 4000)))
            let clock = ContinuousClock()
            let began = clock.now
            let r = try await curl("\(hub.endpoint)/acme/tiny/resolve/main/sub/dir/w.bin")
            let elapsed = clock.now - began
            #expect(r.body == (try FakeHub.FileContent.pattern(seed: 7, size: 1000).allBytes()))
            // 1000 bytes at 4000 B/s in 400-byte pieces: the last piece is due after 0.2 s.
            #expect(elapsed >= .milliseconds(190), "took \(elapsed)")
        }
    }

    @Test func stallAfterHangsUntilTheClientGivesUp() async throws {
        try await withTinyHub(cdn: false) { hub, _ in
            hub.addFault(.init(match: .file("model.bin"), action: .stallAfter(bytes: 100)))
            // Three seconds, not one: on a loaded 2-core machine the first 100 bytes can take over a second,
            // and curl would then give up before they arrive.
            let r = try await curl("--speed-time", "3", "--speed-limit", "1", "\(hub.endpoint)/acme/tiny/resolve/main/model.bin")
            #expect(r.exitCode == 28, "curl: \(r.stderr)")  // CURLE_OPERATION_TIMEDOUT
            #expect(r.body == (try bigContent.bytes(in: 0..<100)))
            let logged = try await hub.waitForRequests(phase: .completed) { $0.filePath == "model.bin" }
            #expect(logged[0].bytesSent == 100)
        }
    }

    @Test func changeContentServesOtherBytesAndEtag() async throws {
        try await withTinyHub(cdn: false) { hub, sha in
            let changed = FakeHub.FileContent.text("# changed upstream\n")
            hub.addFault(.init(match: .file("README.md"), times: 2, action: .changeContent(changed)))
            let head = try await curl("-I", "\(hub.endpoint)/acme/tiny/resolve/main/README.md")
            let expected = try FakeHub.StoredFile(path: "README.md", content: changed)
            #expect(head.header("etag") == "\"\(expected.blobID)\"")
            #expect(head.header("content-length") == "19" && head.header("x-repo-commit") == sha)
            #expect(try await curl("\(hub.endpoint)/acme/tiny/resolve/main/README.md").text == "# changed upstream\n")
            #expect(try await curl("\(hub.endpoint)/acme/tiny/resolve/main/README.md").text == "# tiny\n")
        }
    }

    @Test func cdnFaultsMatchTheBlobsPathAndExpireSignatures() async throws {
        try await withTinyHub { hub, _ in
            hub.liveHubStyle = true
            hub.addFault(.init(.cdn, match: .file("model.bin"), action: .expiredSignature))
            hub.addFault(.init(.cdn, match: .file("model.bin"), range: .startingAt(500), action: .status(500)))
            let location = try #require(try await curl("-I", "\(hub.endpoint)/acme/tiny/resolve/main/model.bin").header("location"))
            let expired = try await curl(location)
            #expect(expired.status == 403 && expired.text.contains("Request has expired"))
            #expect(try await curl("-r", "0-9", location).status == 206)
            #expect(try await curl("-r", "500-509", location).status == 500)
            #expect(try await curl("-r", "500-509", location).status == 206)
            #expect(hub.requests.filter { $0.server == .cdn }.map(\.status) == [403, 206, 500, 206])
        }
    }

    @Test func methodAndRangeConditions() async throws {
        try await withTinyHub(cdn: false) { hub, _ async throws in
            let url = "\(hub.endpoint)/acme/tiny/resolve/main/README.md"
            hub.addFault(.init(match: .file("README.md"), method: .get, range: .unranged, times: 10, action: .status(502)))
            #expect(try await curl("-I", url).status == 200)
            #expect(try await curl("-r", "0-1", url).status == 206)
            #expect(try await curl(url).status == 502)
            hub.removeAllFaults()
            hub.addFault(.init(.cdn, match: .any, action: .status(500)))
            #expect(try await curl(url).status == 200)
        }
    }
}
