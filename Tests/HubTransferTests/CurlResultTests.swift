import Testing
import HubCore
import HubHTTP

/// libcurl's result codes are checked: a value curl refuses, or a multi call that fails, is reported
/// instead of being ignored. Nothing here reaches the network (port 9 is never contacted).
@Suite struct CurlResultTests {
    final class NullDelegate: StreamingDelegate {
        func transferDidReceiveHeaders(_ t: StreamingTransfer, status: Int, headers: HTTPHeaders) -> Bool { true }
        func transferDidReceive(_ t: StreamingTransfer, _ bytes: UnsafeRawBufferPointer) -> BodyDisposition { .accepted }
    }

    static let unreachable = "http://127.0.0.1:9/never"
    /// Longer than any string libcurl takes (CURL_MAX_INPUT_LENGTH is 8,000,000 bytes).
    static let tooLong = String(repeating: "a", count: 8_000_001)

    @Test func userAgentLongerThanCurlAcceptsIsAUsageError() {
        let client = HTTPClient(credentials: .none, userAgent: Self.tooLong)
        #expect {
            _ = try client.performOnce(HTTPRequest(url: Self.unreachable))
        } throws: { error in
            guard let e = error as? HubError else { return false }
            return e.kind == .usage && e.message.contains("CURLOPT_USERAGENT") && e.message.count < 1000
        }
    }

    @Test func methodLongerThanCurlAcceptsIsAUsageError() {
        let client = HTTPClient(credentials: .none)
        #expect {
            _ = try client.performOnce(HTTPRequest(method: "X" + Self.tooLong, url: Self.unreachable))
        } throws: { error in
            guard let e = error as? HubError else { return false }
            return e.kind == .usage && e.message.contains("CURLOPT_CUSTOMREQUEST") && e.message.count < 1000
        }
    }

    @Test func urlLongerThanCurlAcceptsIsAUsageError() {
        let client = HTTPClient(credentials: .none)
        let url = Self.unreachable + Self.tooLong
        #expect {
            _ = try client.performOnce(HTTPRequest(url: url))
        } throws: { error in
            guard let e = error as? HubError else { return false }
            return e.kind == .usage && e.message.contains("CURLOPT_URL") && e.message.count < 1000
        }
    }

    @Test func refusedSetUpFinishesTheTransferAsFailed() {
        let delegate = NullDelegate()
        let driver = MultiDriver(maxTotalConnections: 2)
        let t = StreamingTransfer(url: Self.unreachable + Self.tooLong, headers: [], credentials: .none, delegate: delegate)
        driver.add(t)
        #expect(driver.activeCount == 1, "counted until perform() reports it, so the owner waits for it")
        let done = driver.perform()
        #expect(done.count == 1)
        #expect(done.first?.0 === t)
        guard case .failed(let reason)? = done.first?.1 else {
            Issue.record("expected .failed, got \(String(describing: done.first?.1))")
            return
        }
        #expect(reason.contains("CURLOPT_URL"))
        #expect(driver.activeCount == 0)
        #expect(driver.perform().isEmpty)
    }

    @Test func removedBeforePerformIsNotReported() {
        let delegate = NullDelegate()
        let driver = MultiDriver(maxTotalConnections: 2)
        let t = StreamingTransfer(url: Self.unreachable + Self.tooLong, headers: [], credentials: .none, delegate: delegate)
        driver.add(t)
        driver.remove(t)
        #expect(driver.activeCount == 0)
        #expect(driver.perform().isEmpty)
    }

    @Test func failedMultiAddIsReportedByPerform() {
        let delegate = NullDelegate()
        let first = MultiDriver(maxTotalConnections: 2)
        let second = MultiDriver(maxTotalConnections: 2)
        let t = StreamingTransfer(url: Self.unreachable, headers: [], credentials: .none, delegate: delegate)
        first.add(t)
        // An easy handle can be in one multi handle only: curl_multi_add_handle fails for the second.
        second.add(t)
        #expect(second.activeCount == 1)
        let done = second.perform()
        #expect(done.count == 1)
        guard case .failed(let reason)? = done.first?.1 else {
            Issue.record("expected .failed, got \(String(describing: done.first?.1))")
            return
        }
        #expect(reason.hasPrefix("curl_multi_add_handle: "))
        #expect(second.activeCount == 0)
        first.remove(t)
        #expect(first.activeCount == 0)
    }
}
