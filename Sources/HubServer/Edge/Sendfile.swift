internal import Foundation
internal import HTTPTypes
internal import HubCore
internal import NIOCore
internal import NIOHTTP1
internal import NIOHTTPTypes
internal import NIOHTTPTypesHTTP1
#if canImport(Glibc)
internal import Glibc
#endif

/// Zero-copy file bodies. Hummingbird's response body takes `ByteBuffer`s only, which costs a read into
/// memory and a write out of it for every byte. A resolve handler instead writes a small marker buffer
/// naming a registered (file, range); `SendfileHandler`, placed in the pipeline right after the
/// HTTPTypes/HTTP1 codec, swaps the marker for a `FileRegion` and hands it to the HTTP/1 encoder below
/// the codec, so the kernel's `sendfile` moves the bytes.
enum Sendfile {
    struct Job: Sendable {
        var path: String
        var start: Int64
        var endExclusive: Int64
    }

    static let magic: [UInt8] = Array("hubmirror:sendf:".utf8)   // 16 bytes
    static let markerLength = 24
    static let registry = Locked<(next: UInt64, jobs: [UInt64: Job])>((UInt64.random(in: 1...(1 << 40)), [:]))

    /// Registers a job and returns the marker to write as the response body.
    static func marker(for job: Job) -> ByteBuffer {
        let id = registry.withLock { r -> UInt64 in
            r.next &+= 1
            r.jobs[r.next] = job
            return r.next
        }
        var b = ByteBuffer()
        b.writeBytes(magic)
        b.writeInteger(id)
        return b
    }

    /// The job a buffer stands for, removed from the registry; nil for any other buffer.
    static func take(_ b: ByteBuffer) -> Job? {
        guard b.readableBytes == markerLength, b.getBytes(at: b.readerIndex, length: 16) == magic,
              let id = b.getInteger(at: b.readerIndex + 16, as: UInt64.self) else { return nil }
        return registry.withLock { $0.jobs.removeValue(forKey: id) }
    }

    /// The byte count a marker stands for (the job stays registered); nil for any other buffer.
    static func length(ofMarker b: ByteBuffer) -> Int64? {
        guard b.readableBytes == markerLength, b.getBytes(at: b.readerIndex, length: 16) == magic,
              let id = b.getInteger(at: b.readerIndex + 16, as: UInt64.self) else { return nil }
        return registry.withLock { $0.jobs[id].map { $0.endExclusive - $0.start } }
    }

    /// Forgets a job whose marker was never written (the response was dropped).
    static func cancel(_ b: ByteBuffer) { _ = take(b) }
}

final class SendfileHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .body(let buffer) = unwrapOutboundIn(data), buffer.readableBytes == Sendfile.markerLength,
              let job = Sendfile.take(buffer) else {
            context.write(data, promise: promise)
            return
        }
        do {
            let codec = try context.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
            let fd = open(job.path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw HubError(.store, "cannot open \(job.path): \(String(cString: strerror(errno)))") }
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
            let region = FileRegion(fileHandle: handle, readerIndex: Int(job.start), endIndex: Int(job.endExclusive))
            let done = context.eventLoop.makePromise(of: Void.self)
            done.futureResult.whenComplete { _ in try? handle.close() }
            if let promise { done.futureResult.cascade(to: promise) }
            // Written on the codec's context, so it goes straight to the HTTP/1 encoder below it.
            codec.write(NIOAny(HTTPServerResponsePart.body(.fileRegion(region))), promise: done)
        } catch {
            promise?.fail(error)
            context.fireErrorCaught(error)
        }
    }
}
