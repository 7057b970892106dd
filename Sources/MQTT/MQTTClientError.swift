/// Why a client operation failed or a connection ended, phrased for logs and health reports.
public enum MQTTClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The client stopped (`disconnect()` or the end of `run()`).
    case shutdown
    /// `run()` was called while running or after it had stopped.
    case alreadyRunning
    /// No connection became available within the publish timeout.
    case timeout
    /// A sent publish was not acknowledged within the publish timeout. It stays in the session
    /// (resent after a reconnect) and may still be delivered; only the caller stopped waiting.
    case unacknowledged
    /// The broker answered CONNECT with a refusal.
    case connectionRefused(MQTTConnectReturnCode)
    /// TCP connect or CONNACK took longer than `connectTimeout`.
    case connectTimeout
    /// The TCP connection could not be made or failed (the underlying error, described).
    case connectionFailed(String)
    /// The broker closed the connection.
    case connectionClosed
    /// Nothing from the broker within the ping timeout of a PINGREQ: the connection was presumed dead.
    case keepAliveTimeout
    /// The broker sent something that is not valid MQTT.
    case protocolError(MQTTProtocolError)
    /// The broker refused these topic filters (SUBACK 0x80).
    case subscriptionRefused([String])
    /// The topic cannot be published to (empty, wildcards, too long).
    case invalidTopic(String)
    /// The connection was closed by `disconnect()` (or cancellation of `run()`).
    case closedByClient
    /// Too many SUBSCRIBE/UNSUBSCRIBE requests are awaiting their acknowledgement.
    case tooManyRequests
    /// A publish larger than `MQTTConfiguration.maxPacketSize` (an upper bound of its encoded size).
    case packetTooLarge(size: Int, limit: Int)

    public var description: String {
        switch self {
        case .shutdown: "MQTT client is shut down"
        case .alreadyRunning: "MQTT client run() called twice"
        case .timeout: "timed out waiting for an MQTT connection"
        case .unacknowledged: "sent, but the broker did not acknowledge it in time (it may still be delivered)"
        case .connectionRefused(let code): "broker refused the connection: \(code)"
        case .connectTimeout: "timed out connecting to the broker"
        case .connectionFailed(let reason): "connection to the broker failed: \(reason)"
        case .connectionClosed: "broker closed the connection"
        case .keepAliveTimeout: "no answer from the broker to PINGREQ within the ping timeout"
        case .protocolError(let error): "MQTT protocol error: \(error)"
        case .subscriptionRefused(let filters): "broker refused subscription to \(filters)"
        case .invalidTopic(let topic): "invalid topic '\(topic)'"
        case .closedByClient: "connection closed by the client"
        case .tooManyRequests: "too many outstanding SUBSCRIBE/UNSUBSCRIBE requests"
        case .packetTooLarge(let size, let limit): "packet of \(size) bytes exceeds the limit of \(limit)"
        }
    }
}

/// A change of the client's connection, for health reporting.
public enum MQTTConnectionEvent: Sendable, Hashable {
    case connected(sessionPresent: Bool)
    case disconnected(MQTTClientError)
}
