import Hummingbird
import HummingbirdAuth
import HummingbirdWebSocket
import NIOCore

/// The request context of every route (HTTP and the `/ws` upgrade): the core context, the
/// WebSocket handoff, who is asking (`Authentication` sets it) and from where (login limits).
public struct MobyRequestContext: WebSocketRequestContext, AuthRequestContext, RemoteAddressRequestContext,
    RequestContext
{
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public var identity: Principal?
    /// The peer of the connection (nil in in-process router tests).
    public let remoteAddress: SocketAddress?

    public init(source: Source) {
        coreContext = .init(source: source)
        webSocket = .init()
        identity = nil
        remoteAddress = source.channel.remoteAddress
    }
}

extension RemoteAddressRequestContext {
    /// The client as a limit's key (`ClientAddress`).
    var clientAddress: String { ClientAddress.key(remoteAddress) }
}
