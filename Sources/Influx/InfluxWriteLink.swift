import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The write path to InfluxDB: one kept-alive HTTP/1.1 connection on SwiftNIO, requests sent in
/// order (pipelined when the writer and the spool replay overlap) and answered in order. The
/// request line and fixed headers are built once. AsyncHTTPClient cost about 600 µs of CPU per
/// request (its pool, request state machines, a deadline task, an event-loop hop each way),
/// which at a factory's everyday rate was half of the server's cost per reading; queries and
/// pings still use it. Plain `http` only: an `https` URL writes through AsyncHTTPClient.
final class InfluxWriteLink: Sendable {
    /// An answer: status, headers and body (at most 64 KiB of it).
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: String
    }

    private let host: String
    private let port: Int
    private let head: HTTPRequestHead
    private let timeout: TimeAmount
    private let group: any EventLoopGroup
    private enum Link {
        case none
        case connecting(EventLoopFuture<any Channel>)
        case connected(any Channel)
    }

    private let link = Mutex(Link.none)

    init(host: String, port: Int, path: String, headers: HTTPHeaders, timeout: Duration, group: any EventLoopGroup) {
        self.host = host
        self.port = port
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers = headers
        head.headers.replaceOrAdd(name: "Host", value: "\(host):\(port)")
        head.headers.replaceOrAdd(name: "Content-Type", value: "text/plain; charset=utf-8")
        self.head = head
        self.timeout = TimeAmount(timeout)
        self.group = group
    }

    deinit {
        if case .connected(let channel) = link.withLock({ $0 }) { channel.close(promise: nil) }
    }

    /// Sends `body` and returns InfluxDB's answer; throws `.unavailable` when the connection
    /// fails or nothing answers within the timeout (the connection is then dropped).
    func write(_ body: ByteBuffer) async throws(InfluxError) -> Answer {
        let channel: any Channel
        let connecting = connection()
        do {
            channel = try await connecting.get()
        } catch {
            forget(connecting: connecting)
            throw .unavailable("cannot connect to InfluxDB at \(host):\(port): \(error)", retryAfter: nil)
        }
        var head = head
        head.headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
        let promise = channel.eventLoop.makePromise(of: Answer.self)
        let limit = timeout
        let timer = channel.eventLoop.scheduleTask(in: limit) {
            promise.fail(InfluxError.unavailable("InfluxDB did not answer within \(limit)", retryAfter: nil))
            channel.close(promise: nil)
        }
        channel.writeAndFlush(WriteRequest(head: head, body: body, answer: promise)).whenFailure { error in
            promise.fail(error)
        }
        do {
            let answer = try await promise.futureResult.get()
            timer.cancel()
            return answer
        } catch {
            timer.cancel()
            forget(channel)
            if let error = error as? InfluxError { throw error }
            throw .unavailable("InfluxDB write failed: \(error)", retryAfter: nil)
        }
    }

    /// The current connection, or a new one.
    private func connection() -> EventLoopFuture<any Channel> {
        let (future, isNew) = link.withLock { link -> (EventLoopFuture<any Channel>, Bool) in
            switch link {
            case .connected(let channel) where channel.isActive:
                return (channel.eventLoop.makeSucceededFuture(channel), false)
            case .connecting(let future):
                return (future, false)
            case .connected, .none:
                break
            }
            let connecting = ClientBootstrap(group: group)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(WriteAnswerHandler())
                    }
                }
                .connect(host: host, port: port)
            link = .connecting(connecting)
            return (connecting, true)
        }
        // Outside the lock: when the connection is made at once (the future already succeeded on
        // the calling event loop) these callbacks run right here, and they take the lock.
        if isNew {
            future.whenSuccess { [weak self] channel in
                guard let self else { return }
                self.connected(channel, by: future)
                channel.closeFuture.whenComplete { [weak self] _ in self?.forget(channel) }
            }
        }
        return future
    }

    private func connected(_ channel: any Channel, by future: EventLoopFuture<any Channel>) {
        link.withLock { link in
            if case .connecting(let current) = link, current === future { link = .connected(channel) }
        }
    }

    /// Drops `channel` if it is still the current connection (a newer one is kept).
    private func forget(_ channel: any Channel) {
        let drop = link.withLock { link -> Bool in
            guard case .connected(let current) = link, current === channel else { return false }
            link = .none
            return true
        }
        if drop { channel.close(promise: nil) }
    }

    /// Forgets a connection attempt that failed.
    private func forget(connecting future: EventLoopFuture<any Channel>) {
        link.withLock { link in
            if case .connecting(let current) = link, current === future { link = .none }
        }
    }
}

/// One request and where its answer goes.
struct WriteRequest {
    var head: HTTPRequestHead
    var body: ByteBuffer
    var answer: EventLoopPromise<InfluxWriteLink.Answer>
}

/// Turns `WriteRequest`s into HTTP parts and answers them in order.
final class WriteAnswerHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = WriteRequest
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting = CircularBuffer<EventLoopPromise<InfluxWriteLink.Answer>>()
    private var status = 0
    private var headers = HTTPHeaders()
    private var body = ByteBuffer()
    static let maxBody = 64 * 1024

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(request.answer)
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            headers = head.headers
            body.clear()
        case .body(var part):
            if body.readableBytes < Self.maxBody {
                body.writeBuffer(&part)
            }
        case .end:
            let answer = InfluxWriteLink.Answer(status: status, headers: headers, body: String(buffer: body))
            waiting.popFirst()?.succeed(answer)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(InfluxError.unavailable("the connection to InfluxDB closed", retryAfter: nil))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(InfluxError.unavailable("InfluxDB connection error: \(error)", retryAfter: nil))
        context.close(promise: nil)
    }

    private func failAll(_ error: InfluxError) {
        while let promise = waiting.popFirst() { promise.fail(error) }
    }
}
