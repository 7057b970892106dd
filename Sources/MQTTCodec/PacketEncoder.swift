/// Serialises `MQTTPacket` values into MQTT 3.1.1 wire bytes. Pure: no I/O, no state.
extension MQTTPacket {
    /// The largest remaining length the variable-byte encoding can express.
    public static let maxRemainingLength = 268_435_455

    /// Appends the packet's wire form to `buffer`. On error nothing is written.
    public func write(into buffer: inout ByteBuffer) throws(MQTTProtocolError) {
        let length = try bodyLength()
        guard length <= Self.maxRemainingLength else {
            throw .packetTooLarge(size: length, limit: Self.maxRemainingLength)
        }
        buffer.reserveCapacity(minimumWritableBytes: length + 5)
        buffer.writeInteger(firstByte)
        Self.writeRemainingLength(length, into: &buffer)
        writeBody(into: &buffer)
    }

    /// The packet's wire form as a fresh buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(MQTTProtocolError)
        -> ByteBuffer
    {
        var buffer = allocator.buffer(capacity: 16)
        try write(into: &buffer)
        return buffer
    }

    /// Writes `value` (at most 268,435,455) as an MQTT variable byte integer.
    package static func writeRemainingLength(_ value: Int, into buffer: inout ByteBuffer) {
        var value = value
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value > 0 { byte |= 0x80 }
            buffer.writeInteger(byte)
        } while value > 0
    }

    private var firstByte: UInt8 {
        var flags = type.requiredFlags
        if case .publish(let publish) = self {
            flags = (publish.duplicate ? 0b1000 : 0) | (publish.qos.rawValue << 1) | (publish.retain ? 1 : 0)
        }
        return type.rawValue << 4 | flags
    }

    private func bodyLength() throws(MQTTProtocolError) -> Int {
        switch self {
        case .connect(let connect):
            var length = 2 + 4 + 1 + 1 + 2
            length += try stringLength(connect.clientID, field: "client identifier")
            if let will = connect.will {
                length += try stringLength(will.topic, field: "will topic")
                length += try binaryLength(will.payload.count, field: "will payload")
            }
            if let username = connect.username {
                length += try stringLength(username, field: "user name")
            }
            if let password = connect.password {
                if connect.username == nil { throw .invalidField("password without user name") }
                length += try binaryLength(password.count, field: "password")
            }
            return length
        case .connack:
            return 2
        case .publish(let publish):
            try Self.validateTopicName(publish.topic)
            var length = try stringLength(publish.topic, field: "topic")
            switch (publish.qos, publish.packetID) {
            case (.atMostOnce, nil): break
            case (.atMostOnce, .some): throw .invalidField("packet identifier on a QoS 0 PUBLISH")
            case (_, nil), (_, 0): throw .zeroPacketID(.publish)
            case (_, .some): length += 2
            }
            return length + publish.payload.readableBytes
        case .puback(let id), .pubrec(let id), .pubrel(let id), .pubcomp(let id), .unsuback(let id):
            guard id != 0 else { throw .zeroPacketID(type) }
            return 2
        case .subscribe(let subscribe):
            guard subscribe.packetID != 0 else { throw .zeroPacketID(.subscribe) }
            guard !subscribe.filters.isEmpty else { throw .invalidField("SUBSCRIBE without filters") }
            var length = 2
            for subscription in subscribe.filters {
                length += try stringLength(subscription.filter, field: "topic filter") + 1
            }
            return length
        case .suback(let suback):
            guard suback.packetID != 0 else { throw .zeroPacketID(.suback) }
            return 2 + suback.returnCodes.count
        case .unsubscribe(let unsubscribe):
            guard unsubscribe.packetID != 0 else { throw .zeroPacketID(.unsubscribe) }
            guard !unsubscribe.filters.isEmpty else { throw .invalidField("UNSUBSCRIBE without filters") }
            var length = 2
            for filter in unsubscribe.filters {
                length += try stringLength(filter, field: "topic filter")
            }
            return length
        case .pingreq, .pingresp, .disconnect:
            return 0
        }
    }

    private func writeBody(into buffer: inout ByteBuffer) {
        switch self {
        case .connect(let connect):
            Self.writeString("MQTT", into: &buffer)
            buffer.writeInteger(connect.protocolVersion.rawValue)
            var flags: UInt8 = connect.cleanSession ? 0b10 : 0
            if let will = connect.will {
                flags |= 0b100 | will.qos.rawValue << 3 | (will.retain ? 0b10_0000 : 0)
            }
            if connect.password != nil { flags |= 0b100_0000 }
            if connect.username != nil { flags |= 0b1000_0000 }
            buffer.writeInteger(flags)
            buffer.writeInteger(connect.keepAliveSeconds)
            Self.writeString(connect.clientID, into: &buffer)
            if let will = connect.will {
                Self.writeString(will.topic, into: &buffer)
                buffer.writeInteger(UInt16(will.payload.count))
                buffer.writeBytes(will.payload)
            }
            if let username = connect.username { Self.writeString(username, into: &buffer) }
            if let password = connect.password {
                buffer.writeInteger(UInt16(password.count))
                buffer.writeBytes(password)
            }
        case .connack(let connack):
            buffer.writeInteger(UInt8(connack.sessionPresent ? 1 : 0))
            buffer.writeInteger(connack.returnCode.rawValue)
        case .publish(let publish):
            Self.writeString(publish.topic, into: &buffer)
            if let id = publish.packetID { buffer.writeInteger(id) }
            buffer.writeImmutableBuffer(publish.payload)
        case .puback(let id), .pubrec(let id), .pubrel(let id), .pubcomp(let id), .unsuback(let id):
            buffer.writeInteger(id)
        case .subscribe(let subscribe):
            buffer.writeInteger(subscribe.packetID)
            for subscription in subscribe.filters {
                Self.writeString(subscription.filter, into: &buffer)
                buffer.writeInteger(subscription.qos.rawValue)
            }
        case .suback(let suback):
            buffer.writeInteger(suback.packetID)
            for code in suback.returnCodes { buffer.writeInteger(code.rawValue) }
        case .unsubscribe(let unsubscribe):
            buffer.writeInteger(unsubscribe.packetID)
            for filter in unsubscribe.filters { Self.writeString(filter, into: &buffer) }
        case .pingreq, .pingresp, .disconnect:
            break
        }
    }

    private static func writeString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(string.utf8.count))
        buffer.writeString(string)
    }

    private func stringLength(_ string: String, field: String) throws(MQTTProtocolError) -> Int {
        try binaryLength(string.utf8.count, field: field)
    }

    private func binaryLength(_ count: Int, field: String) throws(MQTTProtocolError) -> Int {
        guard count <= Int(UInt16.max) else { throw .fieldTooLong(field: field, length: count) }
        return 2 + count
    }

    /// Checks that `topic` may be published to: non-empty, no wildcards, no U+0000, at most 65,535 bytes.
    public static func validateTopicName(_ topic: String) throws(MQTTProtocolError) {
        guard !topic.isEmpty, topic.utf8.count <= Int(UInt16.max) else { throw .invalidTopic(topic) }
        for byte in topic.utf8 where byte == UInt8(ascii: "+") || byte == UInt8(ascii: "#") || byte == 0 {
            throw .invalidTopic(topic)
        }
    }
}

extension MQTTPacket {
    /// Checks a SUBSCRIBE/UNSUBSCRIBE topic filter: non-empty, at most 65,535 bytes, no U+0000,
    /// `+` only as a whole level, `#` only as the whole last level.
    public static func validateTopicFilter(_ filter: String) throws(MQTTProtocolError) {
        guard !filter.isEmpty, filter.utf8.count <= Int(UInt16.max), !filter.utf8.contains(0) else {
            throw .invalidTopic(filter)
        }
        let levels = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.contains(UInt8(ascii: "+")) && level.count != 1 { throw .invalidTopic(filter) }
            if level.contains(UInt8(ascii: "#")) && (level.count != 1 || index != levels.count - 1) {
                throw .invalidTopic(filter)
            }
        }
    }
}

/// Plugs the encoder into a NIO pipeline: runs of `MQTTPacket`s in, one buffer of bytes out per
/// run (a batch of acknowledgements costs one pipeline pass and one buffer, not one per packet).
public struct MQTTPacketEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = [MQTTPacket]

    public init() {}

    public func encode(data: [MQTTPacket], out: inout ByteBuffer) throws {
        for packet in data { try packet.write(into: &out) }
    }
}
