import NIOCore

/// A message for `MQTTClient.publish(contentsOf:qos:)`: what to publish where.
public struct MQTTOutgoingMessage: Sendable {
    public var topic: String
    public var payload: ByteBuffer
    public var retain: Bool

    public init(topic: String, payload: ByteBuffer, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.retain = retain
    }
}
