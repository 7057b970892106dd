import Hummingbird
import HummingbirdAuth
import HummingbirdWebSocket

/// The request context of every route (HTTP and the `/ws` upgrade): the core context, the
/// WebSocket handoff, and who is asking (`Authentication` sets it).
public struct MobyRequestContext: WebSocketRequestContext, AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public var identity: Principal?

    public init(source: Source) {
        coreContext = .init(source: source)
        webSocket = .init()
        identity = nil
    }
}
