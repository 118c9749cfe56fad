import HubCore
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thrown from a response body writer to end the connection after a fault cut the body.
struct FaultAbort: Error {}

/// How a fault shapes the body as it is written.
struct BodyPlan {
    enum Cut { case reset(Int64), truncate(Int64), stall(Int64) }
    var cut: Cut?
    var corruptOffset: Int64?
    var bytesPerSecond: Int?

    init(_ action: FakeHub.FaultRule.Action?) {
        switch action {
        case .resetAfter(let n): cut = .reset(Int64(max(0, n)))
        case .truncateAfter(let n): cut = .truncate(Int64(max(0, n)))
        case .stallAfter(let n): cut = .stall(Int64(max(0, n)))
        case .corruptByte(let offset): corruptOffset = offset
        case .trickle(let bps): bytesPerSecond = max(1, bps)
        default: break
        }
    }

    var limit: Int64? {
        switch cut {
        case .reset(let n), .truncate(let n), .stall(let n): return n
        case nil: return nil
        }
    }
}

extension FakeHub {
    func makeResponse(_ reply: Reply, method: String, action: FaultRule.Action?, channel: any Channel, logID: Int) -> Response {
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) }
        }
        let status = HTTPResponse.Status(code: reply.status)
        if method == "HEAD" {
            // Same headers as GET, no body (Content-Length says what GET would send).
            if fields[.contentLength] == nil { fields[.contentLength] = String(reply.body.length) }
            let body = ResponseBody { [self] writer in
                defer { updateLog(logID, complete: true) { _ in } }
                try await writer.finish(nil)
            }
            return Response(status: status, headers: fields, body: body)
        }
        let plan = BodyPlan(action)
        let source: FileContent
        let start: Int64
        let length: Int64
        switch reply.body {
        case .empty: (source, start, length) = (.bytes([]), 0, 0)
        case .data(let d): (source, start, length) = (.bytes(d), 0, Int64(d.count))
        case .content(let c, let a, let n): (source, start, length) = (c, a, n)
        }
        let body = ResponseBody(contentLength: Int(length)) { [self] writer in
            do {
                try await self.stream(source, start: start, length: length, plan: plan, to: &writer, channel: channel, logID: logID)
                updateLog(logID, complete: true) { _ in }
            } catch {
                updateLog(logID, complete: true) { _ in }
                throw error
            }
        }
        return Response(status: status, headers: fields, body: body)
    }

    /// Writes `length` bytes of `source` from `start`, applying the plan's corruption, pacing and cut.
    private func stream(
        _ source: FileContent, start: Int64, length: Int64, plan: BodyPlan, to writer: inout any ResponseBodyWriter,
        channel: any Channel, logID: Int
    ) async throws {
        let limit = min(plan.limit ?? length, length)
        let reader = try source.makeReader()
        let piece: Int64 = plan.bytesPerSecond.map { Int64(max(1, min($0 / 10, 64 * 1024))) } ?? (1 << 20)
        let clock = ContinuousClock()
        let began = clock.now
        var sent: Int64 = 0
        while sent < limit {
            let n = Int(min(piece, limit - sent))
            let offset = start + sent
            var buffer = channel.allocator.buffer(capacity: n)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: n) { raw in
                try reader.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<n]))
                return n
            }
            if let bad = plan.corruptOffset, bad >= offset, bad < offset + Int64(n) {
                let index = buffer.readerIndex + Int(bad - offset)
                buffer.setInteger(buffer.getInteger(at: index, as: UInt8.self)! ^ 0xFF, at: index)
            }
            if let bps = plan.bytesPerSecond, sent > 0 {
                try await Task.sleep(until: began + .seconds(Double(sent) / Double(bps)), clock: clock)
            }
            try await writer.write(buffer)
            sent += Int64(n)
            let total = sent
            updateLog(logID) { $0.bytesSent = total }
        }
        guard let cut = plan.cut else {
            try await writer.finish(nil)
            return
        }
        // Barrier: writes reach the socket in order, so once this empty body part is written, every byte
        // handed to the writer above is in the kernel and the count is exact.
        try await channel.writeAndFlush(HTTPResponsePart.body(ByteBuffer()))
        switch cut {
        case .reset:
            if let options = channel as? any SocketOptionProvider {
                try? await options.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
            }
            try? await channel.close()
        case .truncate:
            try? await channel.close()
        case .stall:
            let key = logID
            let (registered, ready) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
                guard !s.stopped else { return (false, []) }
                s.stalled[key] = channel
                s.stallsSeen += 1
                let seen = s.stallsSeen
                let ready = s.stallWaiters.filter { $0.count <= seen }.map(\.continuation)
                s.stallWaiters.removeAll { $0.count <= seen }
                return (true, ready)
            }
            for c in ready { c.resume() }
            if registered {
                // The server allows remote half-closure, so a client that gives up shows as `inputClosed`,
                // not as a closed channel: watch for either at the front of the pipeline.
                let gone = channel.eventLoop.makePromise(of: Void.self)
                let watcher = PeerGoneWatcher(gone)
                if (try? await channel.pipeline.addHandler(watcher, position: .first).get()) == nil { gone.succeed() }
                if !channel.isActive { gone.succeed() }
                await withTaskCancellationHandler {
                    try? await gone.futureResult.get()
                } onCancel: {
                    channel.close(promise: nil)
                }
            }
            state.withLock { _ = $0.stalled.removeValue(forKey: key) }
            try? await channel.close()
        }
        throw FaultAbort()
    }
}

/// Completes a promise when the peer closes its side (or the channel goes away).
final class PeerGoneWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    private let promise: EventLoopPromise<Void>

    init(_ promise: EventLoopPromise<Void>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { promise.succeed() }
}
