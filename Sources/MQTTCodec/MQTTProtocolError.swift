/// Why bytes on the wire are not a valid MQTT packet (or a packet cannot be encoded). A peer that
/// sends any of these is misbehaving: the client closes the connection and reconnects.
public enum MQTTProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Packet type 0 or 15.
    case reservedPacketType(UInt8)
    /// Fixed-header flags that the packet type does not allow.
    case invalidFlags(type: MQTTPacketType, flags: UInt8)
    /// The remaining length uses more than 4 bytes.
    case malformedRemainingLength
    /// The packet (fixed header included) is larger than allowed.
    case packetTooLarge(size: Int, limit: Int)
    /// A field runs past the end of the packet.
    case truncated(field: String)
    /// A string is not valid UTF-8 (or contains U+0000).
    case invalidUTF8(field: String)
    /// A QoS of 3.
    case invalidQoS(UInt8)
    /// Packet identifier 0 where a non-zero one is required.
    case zeroPacketID(MQTTPacketType)
    /// A PUBLISH topic that is empty or contains `+` or `#`.
    case invalidTopic(String)
    /// Bytes left over after the last field of a packet.
    case trailingBytes(type: MQTTPacketType, count: Int)
    /// A string or binary field longer than 65,535 bytes.
    case fieldTooLong(field: String, length: Int)
    /// A field with a value the protocol does not define (reserved bits, unknown return codes...).
    case invalidField(String)
    /// A CONNECT for a protocol name or level this codec does not speak.
    case unsupportedProtocol(name: String, level: UInt8)
    /// A packet the client must never receive, or one that arrives in the wrong state.
    case unexpectedPacket(MQTTPacketType)

    public var description: String {
        switch self {
        case .reservedPacketType(let type): "reserved packet type \(type)"
        case .invalidFlags(let type, let flags): "invalid fixed-header flags \(flags) for \(type)"
        case .malformedRemainingLength: "remaining length longer than 4 bytes"
        case .packetTooLarge(let size, let limit): "packet of \(size) bytes exceeds limit of \(limit)"
        case .truncated(let field): "truncated \(field)"
        case .invalidUTF8(let field): "invalid UTF-8 in \(field)"
        case .invalidQoS(let qos): "invalid QoS \(qos)"
        case .zeroPacketID(let type): "packet identifier 0 in \(type)"
        case .invalidTopic(let topic): "invalid topic name '\(topic)'"
        case .trailingBytes(let type, let count): "\(count) unexpected trailing bytes in \(type)"
        case .fieldTooLong(let field, let length): "\(field) of \(length) bytes is too long"
        case .invalidField(let what): "invalid \(what)"
        case .unsupportedProtocol(let name, let level): "unsupported protocol \(name) level \(level)"
        case .unexpectedPacket(let type): "unexpected \(type) packet"
        }
    }
}
