/// Turns MQTT 3.1.1 wire bytes back into `MQTTPacket` values, incrementally: it returns `nil` until a
/// whole packet is buffered, and it never buffers more than `maxPacketSize` bytes of one packet.
/// A PUBLISH larger than that is not a reason to drop the connection (the broker would redeliver
/// it forever): its topic, packet identifier and first `refusedPayloadPrefix` payload bytes are
/// kept, the rest is discarded as it arrives, and once its last byte is gone it comes out as a
/// publish marked with an `MQTTRefusal`. So does a PUBLISH whose topic cannot be used. Any other
/// oversized packet, and broken framing, throws. Pure: no I/O.
public struct MQTTPacketDecoder: Sendable {
    /// The payload bytes a refused oversized PUBLISH keeps, for the application's dead letter.
    public static let refusedPayloadPrefix = 256

    /// The largest packet accepted, fixed header included.
    public var maxPacketSize: Int
    public var protocolVersion: MQTTProtocolVersion
    /// A refused PUBLISH whose remaining bytes are being discarded; handed on when they are gone.
    private var skipping: (remaining: Int, publish: MQTTPublish)?

    public init(maxPacketSize: Int = 1 << 20, protocolVersion: MQTTProtocolVersion = .v311) {
        self.maxPacketSize = maxPacketSize
        self.protocolVersion = protocolVersion
    }

    /// True while the bytes of a refused oversized PUBLISH are being discarded.
    public var isSkipping: Bool { skipping != nil }

    /// Decodes one packet from the front of `buffer` and consumes its bytes; returns `nil` when more
    /// bytes are needed (consuming nothing, or, while skipping a refused PUBLISH, everything
    /// present). Throws as soon as the bytes present prove the input malformed.
    public mutating func decode(_ buffer: inout ByteBuffer) throws(MQTTProtocolError) -> MQTTPacket? {
        if let (remaining, publish) = skipping {
            let discarded = min(remaining, buffer.readableBytes)
            buffer.moveReaderIndex(forwardBy: discarded)
            guard discarded == remaining else {
                skipping = (remaining - discarded, publish)
                return nil
            }
            skipping = nil
            return .publish(publish)
        }
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        guard let type = MQTTPacketType(rawValue: first >> 4) else {
            throw .reservedPacketType(first >> 4)
        }
        let flags = first & 0x0F
        if type == .publish {
            if flags & 0b0110 == 0b0110 { throw .invalidQoS(3) }
        } else if flags != type.requiredFlags {
            throw .invalidFlags(type: type, flags: flags)
        }

        var remaining = 0
        var headerLength = 1
        while true {
            guard headerLength <= 4 else { throw .malformedRemainingLength }
            guard let byte = buffer.getInteger(at: buffer.readerIndex + headerLength, as: UInt8.self) else {
                return nil
            }
            remaining |= Int(byte & 0x7F) << (7 * (headerLength - 1))
            headerLength += 1
            if byte & 0x80 == 0 { break }
        }
        let size = headerLength + remaining
        guard size <= maxPacketSize else {
            guard type == .publish else { throw .packetTooLarge(size: size, limit: maxPacketSize) }
            guard try beginSkipping(flags: flags, headerLength: headerLength, remaining: remaining, in: &buffer) else {
                return nil
            }
            return try decode(&buffer)
        }
        guard buffer.readableBytes >= size else { return nil }

        guard var body = buffer.getSlice(at: buffer.readerIndex + headerLength, length: remaining) else {
            return nil
        }
        let packet = try Self.decodeBody(type: type, flags: flags, body: &body)
        if body.readableBytes > 0 { throw .trailingBytes(type: type, count: body.readableBytes) }
        buffer.moveReaderIndex(forwardBy: size)
        return packet
    }

    /// An oversized PUBLISH: once its topic, packet identifier and first payload bytes are
    /// buffered (at most about 66 KB, whatever the packet's size), keeps them, consumes them and
    /// starts discarding the rest. False when more bytes are needed (nothing consumed).
    private mutating func beginSkipping(flags: UInt8, headerLength: Int, remaining: Int, in buffer: inout ByteBuffer)
        throws(MQTTProtocolError) -> Bool
    {
        let start = buffer.readerIndex + headerLength
        guard let topicLength = buffer.getInteger(at: start, as: UInt16.self) else { return false }
        let qos = MQTTQoS(rawValue: (flags >> 1) & 0b11)!
        let variableHeader = 2 + Int(topicLength) + (qos == .atMostOnce ? 0 : 2)
        guard variableHeader <= remaining else { throw .truncated(field: "topic") }
        let prefix = min(Self.refusedPayloadPrefix, remaining - variableHeader)
        guard buffer.readableBytes >= headerLength + variableHeader + prefix,
            var header = buffer.getSlice(at: start, length: variableHeader + prefix)
        else { return false }
        var reader = BodyReader(buffer: header)
        let (topic, topicProblem) = try reader.topicName()
        let packetID = qos == .atMostOnce ? nil : try reader.packetID(.publish)
        header = reader.buffer
        var problems: [MQTTRefusal.Problem] = [.tooLarge(packetSize: headerLength + remaining, limit: maxPacketSize)]
        if let topicProblem { problems.append(.invalidTopic(topicProblem)) }
        // A copy: a slice would keep the whole read buffer alive while the message waits.
        let payload = ByteBuffer(bytes: header.readableBytesView)
        buffer.moveReaderIndex(forwardBy: headerLength + variableHeader + prefix)
        skipping = (
            remaining - variableHeader - prefix,
            MQTTPublish(
                topic: topic, payload: payload, qos: qos, packetID: packetID, retain: flags & 1 == 1,
                duplicate: flags & 0b1000 != 0,
                refusal: MQTTRefusal(problems: problems, payloadSize: remaining - variableHeader))
        )
        return true
    }

    private static func decodeBody(type: MQTTPacketType, flags: UInt8, body: inout ByteBuffer)
        throws(MQTTProtocolError) -> MQTTPacket
    {
        var reader = BodyReader(buffer: body)
        defer { body = reader.buffer }
        switch type {
        case .connect:
            return .connect(try decodeConnect(&reader))
        case .connack:
            let ackFlags = try reader.byte("CONNACK flags")
            guard ackFlags & 0xFE == 0 else { throw .invalidField("CONNACK flags \(ackFlags)") }
            let code = try reader.byte("CONNACK return code")
            guard let returnCode = MQTTConnectReturnCode(rawValue: code) else {
                throw .invalidField("CONNACK return code \(code)")
            }
            return .connack(MQTTConnAck(sessionPresent: ackFlags == 1, returnCode: returnCode))
        case .publish:
            let qos = MQTTQoS(rawValue: (flags >> 1) & 0b11)!
            let (topic, topicProblem) = try reader.topicName()
            let packetID = qos == .atMostOnce ? nil : try reader.packetID(.publish)
            let payload = reader.rest()
            return .publish(
                MQTTPublish(
                    topic: topic, payload: payload, qos: qos, packetID: packetID, retain: flags & 1 == 1,
                    duplicate: flags & 0b1000 != 0,
                    refusal: topicProblem.map {
                        MQTTRefusal(problems: [.invalidTopic($0)], payloadSize: payload.readableBytes)
                    }))
        case .puback: return .puback(packetID: try reader.packetID(type))
        case .pubrec: return .pubrec(packetID: try reader.packetID(type))
        case .pubrel: return .pubrel(packetID: try reader.packetID(type))
        case .pubcomp: return .pubcomp(packetID: try reader.packetID(type))
        case .unsuback: return .unsuback(packetID: try reader.packetID(type))
        case .subscribe:
            let id = try reader.packetID(type)
            var filters: [MQTTSubscription] = []
            repeat {
                let filter = try reader.string("topic filter")
                let options = try reader.byte("requested QoS")
                guard options & 0xFC == 0 else { throw .invalidField("subscription options \(options)") }
                guard let qos = MQTTQoS(rawValue: options) else { throw .invalidQoS(options) }
                filters.append(MQTTSubscription(filter: filter, qos: qos))
            } while reader.buffer.readableBytes > 0
            return .subscribe(MQTTSubscribe(packetID: id, filters: filters))
        case .suback:
            let id = try reader.packetID(type)
            var codes: [MQTTSubscribeReturnCode] = []
            repeat {
                let code = try reader.byte("SUBACK return code")
                if code == 0x80 {
                    codes.append(.failure)
                } else if let qos = MQTTQoS(rawValue: code) {
                    codes.append(.granted(qos))
                } else {
                    throw .invalidField("SUBACK return code \(code)")
                }
            } while reader.buffer.readableBytes > 0
            return .suback(MQTTSubAck(packetID: id, returnCodes: codes))
        case .unsubscribe:
            let id = try reader.packetID(type)
            var filters: [String] = []
            repeat {
                filters.append(try reader.string("topic filter"))
            } while reader.buffer.readableBytes > 0
            return .unsubscribe(MQTTUnsubscribe(packetID: id, filters: filters))
        case .pingreq: return .pingreq
        case .pingresp: return .pingresp
        case .disconnect: return .disconnect
        }
    }

    private static func decodeConnect(_ reader: inout BodyReader) throws(MQTTProtocolError) -> MQTTConnect {
        let name = try reader.string("protocol name")
        let level = try reader.byte("protocol level")
        guard name == "MQTT", let version = MQTTProtocolVersion(rawValue: level) else {
            throw .unsupportedProtocol(name: name, level: level)
        }
        let flags = try reader.byte("connect flags")
        guard flags & 1 == 0 else { throw .invalidField("reserved connect flag") }
        let willQoSBits = (flags >> 3) & 0b11
        let hasWill = flags & 0b100 != 0
        guard let willQoS = MQTTQoS(rawValue: willQoSBits) else { throw .invalidQoS(willQoSBits) }
        if !hasWill && (willQoSBits != 0 || flags & 0b10_0000 != 0) {
            throw .invalidField("will QoS or retain without will flag")
        }
        let hasUsername = flags & 0b1000_0000 != 0
        let hasPassword = flags & 0b100_0000 != 0
        guard hasUsername || !hasPassword else { throw .invalidField("password without user name") }
        let keepAlive = try reader.uint16("keep alive")
        let clientID = try reader.string("client identifier")
        var will: MQTTWill?
        if hasWill {
            let topic = try reader.string("will topic")
            let payload = try reader.binary("will payload")
            will = MQTTWill(topic: topic, payload: payload, qos: willQoS, retain: flags & 0b10_0000 != 0)
        }
        let username = hasUsername ? try reader.string("user name") : nil
        let password = hasPassword ? try reader.binary("password") : nil
        return MQTTConnect(
            protocolVersion: version, cleanSession: flags & 0b10 != 0, keepAliveSeconds: keepAlive,
            clientID: clientID, will: will, username: username, password: password)
    }
}

/// Reads the fields of one packet's body, throwing when a field runs past the end.
private struct BodyReader {
    var buffer: ByteBuffer

    mutating func byte(_ field: String) throws(MQTTProtocolError) -> UInt8 {
        guard let value = buffer.readInteger(as: UInt8.self) else { throw .truncated(field: field) }
        return value
    }

    mutating func uint16(_ field: String) throws(MQTTProtocolError) -> UInt16 {
        guard let value = buffer.readInteger(as: UInt16.self) else { throw .truncated(field: field) }
        return value
    }

    mutating func packetID(_ type: MQTTPacketType) throws(MQTTProtocolError) -> UInt16 {
        let id = try uint16("packet identifier")
        guard id != 0 else { throw .zeroPacketID(type) }
        return id
    }

    mutating func string(_ field: String) throws(MQTTProtocolError) -> String {
        let length = Int(try uint16("\(field) length"))
        guard buffer.readableBytes >= length else { throw .truncated(field: field) }
        let string: String?
        do {
            string = try buffer.getUTF8ValidatedString(at: buffer.readerIndex, length: length)
        } catch {
            throw .invalidUTF8(field: field)
        }
        guard let string else { throw .truncated(field: field) }
        if string.utf8.contains(0) { throw .invalidUTF8(field: field) }
        buffer.moveReaderIndex(forwardBy: length)
        return string
    }

    /// A PUBLISH topic name and, when it cannot be used, why (the name is then decoded leniently,
    /// invalid UTF-8 replaced by U+FFFD): the packet is still well framed, so it is refused, not fatal.
    mutating func topicName() throws(MQTTProtocolError) -> (topic: String, problem: String?) {
        let length = Int(try uint16("topic length"))
        guard buffer.readableBytes >= length else { throw .truncated(field: "topic") }
        let validated = try? buffer.getUTF8ValidatedString(at: buffer.readerIndex, length: length)
        let topic: String
        let problem: String?
        if let validated {
            topic = validated
            // One pass over the bytes for both (per message; String.UTF8View's generic
            // `contains` took two slower ones).
            var nul = false
            var wildcard = false
            buffer.withUnsafeReadableBytes { raw in
                for byte in raw.prefix(length) {
                    if byte == 0 { nul = true }
                    if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "#") { wildcard = true }
                }
            }
            if topic.isEmpty {
                problem = "the topic name is empty"
            } else if nul {
                problem = "the topic name contains U+0000"
            } else if wildcard {
                problem = "the topic name contains a wildcard (+ or #)"
            } else {
                problem = nil
            }
        } else {
            topic = String(decoding: buffer.readableBytesView.prefix(length), as: UTF8.self)
            problem = "the topic name is not valid UTF-8"
        }
        buffer.moveReaderIndex(forwardBy: length)
        return (topic, problem)
    }

    mutating func binary(_ field: String) throws(MQTTProtocolError) -> [UInt8] {
        let length = Int(try uint16("\(field) length"))
        guard let bytes = buffer.readBytes(length: length) else { throw .truncated(field: field) }
        return bytes
    }

    mutating func rest() -> ByteBuffer {
        buffer.readSlice(length: buffer.readableBytes)!
    }
}

/// Plugs the decoder into a NIO pipeline: bytes in, every complete packet of a read out as one
/// array (one pipeline pass per read instead of one per packet, and no boxing of each packet).
public struct MQTTByteToPacketDecoder: ByteToMessageDecoder {
    public typealias InboundOut = [MQTTPacket]

    public var decoder: MQTTPacketDecoder

    public init(decoder: MQTTPacketDecoder) {
        self.decoder = decoder
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        // While a refused PUBLISH is skipped its bytes are consumed, so nothing piles up here.
        var packets: [MQTTPacket] = []
        do {
            while let packet = try decoder.decode(&buffer) { packets.append(packet) }
        } catch {
            // Hand on what came before the bad packet, then fail the connection.
            if !packets.isEmpty { context.fireChannelRead(Self.wrapInboundOut(packets)) }
            throw error
        }
        guard !packets.isEmpty else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(packets))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool)
        throws -> DecodingState
    {
        try decode(context: context, buffer: &buffer)
    }
}
