import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1 + WebSocket-upgrade child channel with MOBY's connection rules around it:
/// a connection beyond `HTTPLimits.maxConnections` is refused (503); an admitted one gets an
/// `HTTPConnectionGuard` in front of the HTTP decoder and an `HTTPMessageObserver` behind the
/// upgrade handler, which give it idle and request-read timeouts, 4xx answers for requests the
/// parser refuses, and a bounded graceful shutdown.
struct GuardedHTTPChannel: ServerChildChannel {
    /// One accepted connection.
    enum Value: ServerChildChannelValue {
        case admitted(HTTP1WebSocketUpgradeChannel.Value)
        case refused(any Channel)

        var channel: any Channel {
            switch self {
            case .admitted(let value): value.channel
            case .refused(let channel): channel
            }
        }
    }

    let http: HTTP1WebSocketUpgradeChannel
    let limits: HTTPLimits
    let connections: ConnectionLimit
    let metrics: ServerMetrics

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let address = ClientAddress.key(channel.remoteAddress)
        let admission = connections.admit(address: address)
        guard admission == .admitted else {
            metrics.httpConnectionsRefused.increment()
            let answer: ConnectionAnswer? =
                switch admission {
                case .refused(fromAddress: true): .tooManyConnectionsFromAddress(limit: connections.perAddress)
                case .refused(fromAddress: false): .tooManyConnections(limit: connections.maximum)
                case .admitted, .dropped: nil
                }
            logger.debug(
                "HTTP connection refused: limit reached",
                metadata: ["address": "\(address)", "reason": "\(answer?.message ?? "dropped")"])
            return channel.eventLoop.makeCompletedFuture {
                channel.closeFuture.whenComplete { [connections] _ in
                    if answer != nil { connections.refusalEnded() }
                }
                try channel.pipeline.syncOperations.addHandler(
                    ConnectionRefusal(answer: answer, linger: limits.answerLinger))
                return .refused(channel)
            }
        }
        metrics.httpConnections.increment()
        channel.closeFuture.whenComplete { [connections, metrics] _ in
            connections.closed(address: address)
            metrics.httpConnections.decrement()
        }
        // Child channels are set up on their own event loop, so the pipeline can be built synchronously.
        let connectionGuard = HTTPConnectionGuard(limits: limits)
        do {
            try channel.pipeline.syncOperations.addHandler(connectionGuard)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return http.setup(channel: channel, logger: logger).assumeIsolated().flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let upgrader = try pipeline.handler(
                type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            try pipeline.addHandler(HTTPMessageObserver(reportingTo: connectionGuard), position: .after(upgrader))
            return Value.admitted(value)
        }.nonisolated()
    }

    func handle(value: Value, logger: Logger) async {
        switch value {
        case .admitted(let value):
            await http.handle(value: value, logger: logger)
        case .refused(let channel):
            try? await channel.closeFuture.get()
        }
    }
}

extension HTTPServerBuilder {
    /// MOBY's HTTP server: HTTP/1 with the WebSocket upgrade routes of `webSocketRouter`, guarded
    /// by `limits` (see `GuardedHTTPChannel`).
    static func guarded(
        webSocketRouter: Router<MobyRequestContext>, webSocket: WebSocketServerConfiguration, limits: HTTPLimits,
        metrics: ServerMetrics
    ) -> HTTPServerBuilder {
        let webSocketResponder = webSocketRouter.buildResponder()
        let connections = ConnectionLimit(
            maximum: limits.maxConnections, perAddress: limits.maxConnectionsPerAddress)
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: limits.maxHeaderBytes,
            // The parser counts the URL with the headers; the request line has its own limit.
            maxHeaderListSize: limits.maxHeaderBytes + limits.maxRequestLineBytes)
        return HTTPServerBuilder { responder in
            GuardedHTTPChannel(
                http: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder,
                    configuration: .init(http1: .init(httpDecoderConfiguration: decoder), ws: webSocket)),
                limits: limits, connections: connections, metrics: metrics)
        }
    }
}
