import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A raw TCP connection to a test server: bytes go out exactly as given, everything the server
/// sends is collected, and the test can wait for a whole response or for the server to close.
final class RawConnection: Sendable {
    /// One HTTP response as it came over the wire.
    struct Response {
        var status: Int
        var headers: String
        var body: String
    }

    let channel: any Channel
    private let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// Connects to 127.0.0.1:`port`.
    /// A connection to 127.0.0.1:`port` from `source` (any 127.x.y.z address is this host, as
    /// another client would be).
    static func open(port: Int, from source: String = "127.0.0.1") async throws -> RawConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(to: try SocketAddress(ipAddress: source, port: 0))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, collector: collector)
    }

    var isOpen: Bool { channel.isActive }

    /// Everything received so far, as text.
    var text: String { collector.received.withLock { String(decoding: $0, as: UTF8.self) } }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Waits until the server closes the connection; records an issue and throws after `timeout`.
    /// Returns everything the server sent.
    @discardableResult
    func waitForClose(
        timeout: Duration, _ what: String = "the server to close the connection",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [channel] in try? await channel.closeFuture.get() }
            group.addTask { [channel] in
                // Closing ends the wait on `closeFuture` (which cannot be cancelled).
                try? await Task.sleep(for: timeout)
                try? await channel.close()
            }
            await group.next()
            group.cancelAll()
        }
        if ContinuousClock.now - start >= timeout {
            Issue.record("timed out after \(timeout) waiting for \(what)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return text
    }

    /// Waits for one complete response (Content-Length framed), removes it from what was received.
    func readResponse(timeout: Duration = .seconds(5), sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> Response
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let response = collector.received.withLock({ Self.takeResponse(from: &$0) }) { return response }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("no complete response within \(timeout); got \(text.prefix(200))", sourceLocation: sourceLocation)
        throw CancellationError()
    }

    /// The status, headers and body of the first response in `text` (for a closed connection).
    static func parse(_ text: String) -> Response? {
        var bytes = Array(text.utf8)
        return takeResponse(from: &bytes, untilEnd: true)
    }

    func close() async {
        try? await channel.close()
    }

    private static func takeResponse(from bytes: inout [UInt8], untilEnd: Bool = false) -> Response? {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = bytes.firstRange(of: separator) else { return nil }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
        let parts = head.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        let length =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
        let bodyEnd = length.map { end.upperBound + $0 } ?? (untilEnd ? bytes.count : end.upperBound)
        guard bytes.count >= bodyEnd else { return nil }
        let body = String(decoding: bytes[end.upperBound..<bodyEnd], as: UTF8.self)
        bytes.removeFirst(bodyEnd)
        return Response(status: status, headers: head, body: body)
    }
}

/// Collects a client channel's inbound bytes.
private final class Collector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let received = Mutex<[UInt8]>([])

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        received.withLock { $0.append(contentsOf: buffer.readableBytesView) }
    }
}
