import Testing

@testable import MQTT

/// Byte-for-byte encodings of every packet type, written out by hand from the MQTT 3.1.1 spec.
@Suite struct PacketEncoderTests {
    static let cases: [(String, MQTTPacket, [UInt8])] = [
        (
            "CONNECT minimal",
            .connect(MQTTConnect(cleanSession: true, keepAliveSeconds: 60, clientID: "c1")),
            [0x10, 0x0E, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3C, 0x00, 0x02, 0x63, 0x31]
        ),
        (
            "CONNECT with will and credentials",
            .connect(
                MQTTConnect(
                    cleanSession: false, keepAliveSeconds: 10, clientID: "c1",
                    will: MQTTWill(topic: "w", payload: [1, 2], qos: .atLeastOnce, retain: true), username: "u",
                    password: Array("p".utf8))),
            [
                0x10, 0x1B, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0xEC, 0x00, 0x0A, 0x00, 0x02, 0x63, 0x31,
                0x00, 0x01, 0x77, 0x00, 0x02, 0x01, 0x02, 0x00, 0x01, 0x75, 0x00, 0x01, 0x70,
            ]
        ),
        (
            "CONNECT empty client id, will QoS 2",
            .connect(
                MQTTConnect(
                    cleanSession: true, keepAliveSeconds: 0, clientID: "",
                    will: MQTTWill(topic: "w", payload: [], qos: .exactlyOnce, retain: false))),
            [
                0x10, 0x11, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x16, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
                0x77, 0x00, 0x00,
            ]
        ),
        (
            "CONNACK session present", .connack(MQTTConnAck(sessionPresent: true, returnCode: .accepted)),
            [0x20, 0x02, 0x01, 0x00]
        ),
        (
            "CONNACK not authorized", .connack(MQTTConnAck(sessionPresent: false, returnCode: .notAuthorized)),
            [0x20, 0x02, 0x00, 0x05]
        ),
        (
            "PUBLISH QoS 0", .publish(MQTTPublish(topic: "a/b", payload: ByteBuffer(string: "hi"))),
            [0x30, 0x07, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x68, 0x69]
        ),
        (
            "PUBLISH QoS 1 dup retain",
            .publish(
                MQTTPublish(
                    topic: "a/b", payload: ByteBuffer(string: "hi"), qos: .atLeastOnce, packetID: 10, retain: true,
                    duplicate: true)),
            [0x3B, 0x09, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x0A, 0x68, 0x69]
        ),
        (
            "PUBLISH QoS 2 empty payload",
            .publish(MQTTPublish(topic: "t", payload: ByteBuffer(), qos: .exactlyOnce, packetID: 0x1234)),
            [0x34, 0x05, 0x00, 0x01, 0x74, 0x12, 0x34]
        ),
        ("PUBACK", .puback(packetID: 10), [0x40, 0x02, 0x00, 0x0A]),
        ("PUBREC", .pubrec(packetID: 0xFFFF), [0x50, 0x02, 0xFF, 0xFF]),
        ("PUBREL", .pubrel(packetID: 1), [0x62, 0x02, 0x00, 0x01]),
        ("PUBCOMP", .pubcomp(packetID: 0x0102), [0x70, 0x02, 0x01, 0x02]),
        (
            "SUBSCRIBE",
            .subscribe(
                MQTTSubscribe(
                    packetID: 1,
                    filters: [
                        MQTTSubscription(filter: "a/#", qos: .atLeastOnce),
                        MQTTSubscription(filter: "b", qos: .exactlyOnce),
                    ])),
            [0x82, 0x0C, 0x00, 0x01, 0x00, 0x03, 0x61, 0x2F, 0x23, 0x01, 0x00, 0x01, 0x62, 0x02]
        ),
        (
            "SUBACK with failure",
            .suback(
                MQTTSubAck(packetID: 1, returnCodes: [.granted(.atLeastOnce), .granted(.exactlyOnce), .failure])),
            [0x90, 0x05, 0x00, 0x01, 0x01, 0x02, 0x80]
        ),
        (
            "UNSUBSCRIBE", .unsubscribe(MQTTUnsubscribe(packetID: 2, filters: ["a/b"])),
            [0xA2, 0x07, 0x00, 0x02, 0x00, 0x03, 0x61, 0x2F, 0x62]
        ),
        ("UNSUBACK", .unsuback(packetID: 2), [0xB0, 0x02, 0x00, 0x02]),
        ("PINGREQ", .pingreq, [0xC0, 0x00]),
        ("PINGRESP", .pingresp, [0xD0, 0x00]),
        ("DISCONNECT", .disconnect, [0xE0, 0x00]),
    ]

    @Test(arguments: cases)
    func encodesByteForByte(name: String, packet: MQTTPacket, bytes: [UInt8]) throws {
        let encoded = try packet.encoded()
        #expect(Array(encoded.readableBytesView) == bytes, "\(name)")
    }

    @Test(arguments: cases)
    func decodesWhatItEncodes(name: String, packet: MQTTPacket, bytes: [UInt8]) throws {
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = MQTTPacketDecoder()
        let decoded = try decoder.decode(&buffer)
        #expect(decoded == packet, "\(name)")
        #expect(buffer.readableBytes == 0)
    }

    @Test(
        arguments: [
            (0, [0x00]), (127, [0x7F]), (128, [0x80, 0x01]), (16_383, [0xFF, 0x7F]), (16_384, [0x80, 0x80, 0x01]),
            (2_097_151, [0xFF, 0xFF, 0x7F]), (2_097_152, [0x80, 0x80, 0x80, 0x01]),
            (268_435_455, [0xFF, 0xFF, 0xFF, 0x7F]),
        ] as [(Int, [UInt8])])
    func remainingLengthEncoding(value: Int, bytes: [UInt8]) {
        var buffer = ByteBuffer()
        MQTTPacket.writeRemainingLength(value, into: &buffer)
        #expect(Array(buffer.readableBytesView) == bytes)
    }

    @Test func largePayloadUsesMultiByteLength() throws {
        let payload = ByteBuffer(repeating: 0xAB, count: 200_000)
        let packet = MQTTPacket.publish(
            MQTTPublish(topic: "big", payload: payload, qos: .atLeastOnce, packetID: 7))
        let encoded = try packet.encoded()
        // 2 + 3 topic + 2 id + 200,000 payload = 200,007 = 0x30D47 → C7 9A 0C
        #expect(Array(encoded.readableBytesView.prefix(4)) == [0x32, 0xC7, 0x9A, 0x0C])
        #expect(encoded.readableBytes == 4 + 200_007)
        var buffer = encoded
        var decoder = MQTTPacketDecoder(maxPacketSize: 300_000)
        #expect(try decoder.decode(&buffer) == packet)
    }

    @Test func rejectsUnencodablePackets() {
        #expect(throws: MQTTProtocolError.invalidTopic("a/+")) {
            try MQTTPacket.publish(MQTTPublish(topic: "a/+", payload: ByteBuffer())).encoded()
        }
        #expect(throws: MQTTProtocolError.zeroPacketID(.publish)) {
            try MQTTPacket.publish(MQTTPublish(topic: "a", payload: ByteBuffer(), qos: .atLeastOnce)).encoded()
        }
        #expect(throws: MQTTProtocolError.zeroPacketID(.puback)) { try MQTTPacket.puback(packetID: 0).encoded() }
        #expect(throws: MQTTProtocolError.fieldTooLong(field: "client identifier", length: 70_000)) {
            try MQTTPacket.connect(
                MQTTConnect(cleanSession: true, keepAliveSeconds: 0, clientID: String(repeating: "x", count: 70_000))
            ).encoded()
        }
        var buffer = ByteBuffer()
        #expect(throws: MQTTProtocolError.invalidField("SUBSCRIBE without filters")) {
            try MQTTPacket.subscribe(MQTTSubscribe(packetID: 1, filters: [])).write(into: &buffer)
        }
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: ["a", "a/b", "+", "#", "a/+/b", "a/#", "+/+", "/", "sport/tennis/+", "/#"])
    func acceptsValidTopicFilters(filter: String) throws {
        try MQTTPacket.validateTopicFilter(filter)
    }

    @Test(arguments: ["", "a#", "a/#/b", "a+", "a/b+/c", "#/a", "a/\u{0}"])
    func rejectsInvalidTopicFilters(filter: String) {
        #expect(throws: MQTTProtocolError.invalidTopic(filter)) { try MQTTPacket.validateTopicFilter(filter) }
    }
}
