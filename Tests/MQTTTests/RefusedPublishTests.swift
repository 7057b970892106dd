import Testing

@testable import MQTT

/// PUBLISHes the client refuses while their framing is intact come out as refused messages
/// (so they can be acknowledged and dead-lettered) instead of failing the connection.
@Suite struct RefusedPublishTests {
    /// The wire bytes of a PUBLISH with a raw topic (which may be invalid) and a payload of `size` bytes.
    static func publishWire(topic: [UInt8], qos: MQTTQoS, packetID: UInt16 = 7, payloadSize: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0x30 | (qos.rawValue << 1)))
        let remaining = 2 + topic.count + (qos == .atMostOnce ? 0 : 2) + payloadSize
        MQTTPacket.writeRemainingLength(remaining, into: &buffer)
        buffer.writeInteger(UInt16(topic.count))
        buffer.writeBytes(topic)
        if qos != .atMostOnce { buffer.writeInteger(packetID) }
        for index in 0..<payloadSize { buffer.writeInteger(UInt8(truncatingIfNeeded: index)) }
        return buffer
    }

    static let topics: [(String, [UInt8], String, String)] = [
        ("invalid UTF-8", [0x61, 0xC3, 0x28], "a\u{FFFD}(", "the topic name is not valid UTF-8"),
        ("overlong UTF-8", [0xC0, 0xAF], "\u{FFFD}\u{FFFD}", "the topic name is not valid UTF-8"),
        ("U+0000", [0x61, 0x00], "a\u{0}", "the topic name contains U+0000"),
        ("+", Array("a/+".utf8), "a/+", "the topic name contains a wildcard (+ or #)"),
        ("#", Array("#".utf8), "#", "the topic name contains a wildcard (+ or #)"),
        ("empty", [], "", "the topic name is empty"),
    ]

    @Test(arguments: topics)
    func unusableTopicIsRefusedNotFatal(name: String, topic: [UInt8], decoded: String, reason: String) throws {
        var buffer = Self.publishWire(topic: topic, qos: .atLeastOnce, packetID: 9, payloadSize: 5)
        var decoder = MQTTPacketDecoder()
        let packet = try decoder.decode(&buffer)
        guard case .publish(let publish) = packet else {
            Issue.record("\(name): expected a PUBLISH, got \(String(describing: packet))")
            return
        }
        #expect(buffer.readableBytes == 0)
        #expect(publish.topic == decoded, "\(name)")
        #expect(publish.packetID == 9)
        #expect(publish.qos == .atLeastOnce)
        #expect(Array(publish.payload.readableBytesView) == [0, 1, 2, 3, 4])
        #expect(publish.refusal == MQTTRefusal(problems: [.invalidTopic(reason)], payloadSize: 5), "\(name)")
    }

    @Test func oversizedPublishSplitAcrossReadsIsSkippedWithoutBuffering() throws {
        let limit = 1 << 20
        let payloadSize = 3 << 20
        var wire = Self.publishWire(
            topic: Array("factory/sensor/data/big".utf8), qos: .atLeastOnce, packetID: 4242, payloadSize: payloadSize)
        let packetSize = wire.readableBytes
        let normal = MQTTPacket.publish(
            MQTTPublish(
                topic: "factory/sensor/data/a", payload: ByteBuffer(string: "{}"), qos: .atLeastOnce, packetID: 5))
        try normal.write(into: &wire)
        try MQTTPacket.pingresp.write(into: &wire)

        var decoder = MQTTPacketDecoder(maxPacketSize: limit)
        var received = ByteBuffer()
        var packets: [MQTTPacket] = []
        var largestBuffered = 0
        // 4 KiB reads, as a socket would deliver them.
        while let chunk = wire.readSlice(length: min(4096, wire.readableBytes)), chunk.readableBytes > 0 {
            var chunk = chunk
            received.writeBuffer(&chunk)
            largestBuffered = max(largestBuffered, received.readableBytes)
            while let packet = try decoder.decode(&received) { packets.append(packet) }
            // The consumed prefix is given back as a socket handler would (discardReadBytes).
            received.discardReadBytes()
        }
        #expect(received.readableBytes == 0)
        #expect(largestBuffered <= 4096)
        #expect(received.capacity <= 16_384, "the decoder's input never grew with the refused packet")
        #expect(!decoder.isSkipping)
        try #require(packets.count == 3)
        guard case .publish(let refused) = packets[0] else {
            Issue.record("expected the refused PUBLISH first, got \(packets[0])")
            return
        }
        #expect(refused.topic == "factory/sensor/data/big")
        #expect(refused.packetID == 4242)
        #expect(refused.qos == .atLeastOnce)
        #expect(refused.payload.readableBytes == MQTTPacketDecoder.refusedPayloadPrefix)
        #expect(Array(refused.payload.readableBytesView.prefix(3)) == [0, 1, 2])
        #expect(
            refused.refusal
                == MQTTRefusal(problems: [.tooLarge(packetSize: packetSize, limit: limit)], payloadSize: payloadSize))
        #expect(packets[1] == normal)
        #expect(packets[2] == .pingresp)
    }

    @Test func oversizedPublishWaitsOnlyForItsHeaderAndFirstBytes() throws {
        let wire = Self.publishWire(topic: Array("t/#".utf8), qos: .exactlyOnce, packetID: 3, payloadSize: 2 << 20)
        let header = 4 + 2 + 3 + 2
        var decoder = MQTTPacketDecoder(maxPacketSize: 1 << 20)
        // Until topic, packet id and the first 256 payload bytes are there, nothing is consumed.
        for length in [1, 4, 5, header, header + 255] {
            var partial = wire.getSlice(at: 0, length: length)!
            #expect(try decoder.decode(&partial) == nil)
            #expect(partial.readableBytes == length)
            #expect(!decoder.isSkipping)
        }
        // Then everything present is consumed, and nothing comes out until the last byte.
        var rest = wire.getSlice(at: 0, length: header + 300)!
        #expect(try decoder.decode(&rest) == nil)
        #expect(rest.readableBytes == 0)
        #expect(decoder.isSkipping)
        var tail = wire.getSlice(at: header + 300, length: wire.readableBytes - header - 301)!
        #expect(try decoder.decode(&tail) == nil)
        #expect(tail.readableBytes == 0)
        var last = wire.getSlice(at: wire.readableBytes - 1, length: 1)!
        guard case .publish(let publish) = try decoder.decode(&last) else {
            Issue.record("expected the refused PUBLISH after its last byte")
            return
        }
        #expect(publish.qos == .exactlyOnce)
        #expect(publish.packetID == 3)
        #expect(publish.topic == "t/#")
        #expect(
            publish.refusal?.problems == [
                .tooLarge(packetSize: wire.readableBytes, limit: 1 << 20),
                .invalidTopic("the topic name contains a wildcard (+ or #)"),
            ])
        #expect(publish.refusal?.topicProblem == "the topic name contains a wildcard (+ or #)")
    }

    @Test func oversizedQoS0PublishWithTinyPayloadKeepsWhatThereIs() throws {
        // Over a 100-byte limit, but the whole payload fits in the kept prefix: nothing to skip.
        var wire = Self.publishWire(topic: Array("t".utf8), qos: .atMostOnce, payloadSize: 150)
        var decoder = MQTTPacketDecoder(maxPacketSize: 100)
        guard case .publish(let publish) = try decoder.decode(&wire) else {
            Issue.record("expected a refused PUBLISH")
            return
        }
        #expect(wire.readableBytes == 0)
        #expect(publish.packetID == nil)
        #expect(publish.payload.readableBytes == 150)
        #expect(publish.refusal?.payloadSize == 150)
    }
}
