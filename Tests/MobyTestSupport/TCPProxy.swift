import NIOCore
import NIOPosix
import Synchronization

/// A loopback TCP proxy between a client and a real service that a test can black-hole: it then
/// stops forwarding in both directions without closing anything (no RST, no FIN), as a dead
/// network path would, and resumes on `heal()`. Bytes sent meanwhile wait in the socket buffers and
/// flow on after healing, as TCP retransmission would deliver them. Connections opened while
/// black-holed are held silent and closed on `heal()` (their SYN would have been lost).
public final class TCPProxy: Sendable {
    private struct State {
        var blackHoled = false
        var stopped = false
        /// Every forwarding channel (both sides of every connection).
        var channels: [ObjectIdentifier: any Channel] = [:]
        /// Client channels accepted while black-holed, not connected upstream.
        var held: [ObjectIdentifier: any Channel] = [:]
    }

    /// The port clients connect to (127.0.0.1).
    public let port: Int
    private let server: any Channel
    private let state: Mutex<State>

    private init(port: Int, server: any Channel) {
        self.port = port
        self.server = server
        self.state = Mutex(State())
    }

    /// Listens on a free loopback port and forwards every connection to 127.0.0.1:`targetPort`.
    public static func start(targetPort: Int) async throws -> TCPProxy {
        let box = ProxyBox()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { channel in
                guard let proxy = box.proxy else { return channel.close() }
                return proxy.accepted(channel, targetPort: targetPort)
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = TCPProxy(port: server.localAddress?.port ?? 0, server: server)
        box.proxy = proxy
        return proxy
    }

    /// Stops forwarding both ways; connections stay open.
    public func blackHole() {
        let channels = state.withLock { state in
            state.blackHoled = true
            return Array(state.channels.values)
        }
        for channel in channels { channel.setOption(.autoRead, value: false).whenComplete { _ in } }
    }

    /// Forwards again, including what waited meanwhile.
    public func heal() {
        let (channels, held) = state.withLock { state in
            state.blackHoled = false
            defer { state.held = [:] }
            return (Array(state.channels.values), Array(state.held.values))
        }
        for channel in held { channel.close(promise: nil) }
        for channel in channels { channel.setOption(.autoRead, value: true).whenComplete { _ in } }
    }

    /// Closes the listener and every connection.
    public func stop() async {
        let channels = state.withLock { state in
            state.stopped = true
            defer {
                state.channels = [:]
                state.held = [:]
            }
            return Array(state.channels.values) + Array(state.held.values)
        }
        for channel in channels { channel.close(promise: nil) }
        try? await server.close()
    }

    /// Runs `body` with a proxy to `targetPort`, stopping it whatever happens.
    public static func with<T>(targetPort: Int, _ body: (TCPProxy) async throws -> T) async throws -> T {
        let proxy = try await start(targetPort: targetPort)
        do {
            let result = try await body(proxy)
            await proxy.stop()
            return result
        } catch {
            await proxy.stop()
            throw error
        }
    }

    private func accepted(_ client: any Channel, targetPort: Int) -> EventLoopFuture<Void> {
        let hold = state.withLock { state -> Bool? in
            if state.stopped { return nil }
            if state.blackHoled { state.held[ObjectIdentifier(client)] = client }
            return state.blackHoled
        }
        guard let hold else { return client.close() }
        if hold { return client.eventLoop.makeSucceededVoidFuture() }
        return ClientBootstrap(group: client.eventLoop)
            .channelOption(.autoRead, value: false)
            .connect(host: "127.0.0.1", port: targetPort)
            .flatMap { upstream in
                do {
                    try client.pipeline.syncOperations.addHandler(ForwardingHandler(peer: upstream, proxy: self))
                    try upstream.pipeline.syncOperations.addHandler(ForwardingHandler(peer: client, proxy: self))
                } catch {
                    upstream.close(promise: nil)
                    return client.eventLoop.makeFailedFuture(error)
                }
                let blackHoled = self.state.withLock { state in
                    state.channels[ObjectIdentifier(client)] = client
                    state.channels[ObjectIdentifier(upstream)] = upstream
                    return state.blackHoled
                }
                if !blackHoled {
                    client.setOption(.autoRead, value: true).whenComplete { _ in }
                    upstream.setOption(.autoRead, value: true).whenComplete { _ in }
                }
                return client.eventLoop.makeSucceededVoidFuture()
            }
    }

    fileprivate func forget(_ channel: any Channel) {
        _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// Lets the server's child initializer reach the proxy that owns the server.
private final class ProxyBox: Sendable {
    private let stored = Mutex<TCPProxy?>(nil)

    var proxy: TCPProxy? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}

/// Writes what one side of a proxied connection reads to the other side; a close on one side
/// closes the other (both channels are on the same event loop).
private final class ForwardingHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let peer: any Channel
    let proxy: TCPProxy

    init(peer: any Channel, proxy: TCPProxy) {
        self.peer = peer
        self.proxy = proxy
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        proxy.forget(context.channel)
        peer.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
