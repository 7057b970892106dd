/// Timeouts and size limits of the HTTP server's connections (`moby.http.*`,
/// `moby.shutdown.timeout.seconds`), parsed once from the settings table.
public struct HTTPLimits: Sendable, Equatable {
    /// A keep-alive connection with no request in progress is closed after this long.
    public var idleTimeout: Duration
    /// A request whose line, headers and body have not all arrived this long after its first
    /// byte is answered 408 (when no earlier response is still owed) and the connection closed.
    public var requestTimeout: Duration
    /// Open connections (HTTP and upgraded /ws) at most; one more is answered 503 and closed.
    public var maxConnections: Int
    /// Open connections from one client address at most, so that one host cannot take every
    /// place (devices behind one NAT gateway share an address: keep it generous).
    public var maxConnectionsPerAddress: Int
    /// Longest request line; a longer one is answered 414.
    public var maxRequestLineBytes: Int
    /// Largest header section (the parser's limit); a larger one is answered 431.
    public var maxHeaderBytes: Int
    /// After graceful shutdown starts, connections still open this long later are closed.
    public var shutdownTimeout: Duration
    /// After an error answer the connection's output is closed and its input read and discarded
    /// for at most this long, so the client can read the answer before the socket goes away
    /// (closing with unread input would reset the connection and could destroy the answer).
    public var answerLinger: Duration = .seconds(2)

    public init(
        idleTimeout: Duration = .seconds(60), requestTimeout: Duration = .seconds(30), maxConnections: Int = 4_096,
        maxConnectionsPerAddress: Int = 1_024, maxRequestLineBytes: Int = 8_192, maxHeaderBytes: Int = 32_768,
        shutdownTimeout: Duration = .seconds(10)
    ) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.shutdownTimeout = shutdownTimeout
    }
}
