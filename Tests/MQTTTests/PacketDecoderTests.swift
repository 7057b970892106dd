import MobyCore
import Testing

@testable import MQTT

/// Malformed input, partial feeds and random bytes against the incremental decoder.
@Suite struct PacketDecoderTests {
    func decode(_ bytes: [UInt8], maxPacketSize: Int = 1 << 20) throws(MQTTProtocolError) -> MQTTPacket? {
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = MQTTPacketDecoder(maxPacketSize: maxPacketSize)
        return try decoder.decode(&buffer)
    }

    static let malformed: [(String, [UInt8], MQTTProtocolError)] = [
        ("reserved type 0", [0x00, 0x00], .reservedPacketType(0)),
        ("reserved type 15", [0xF0, 0x00], .reservedPacketType(15)),
        ("reserved type, first byte only", [0xF3], .reservedPacketType(15)),
        ("PUBACK flags", [0x41, 0x02, 0x00, 0x01], .invalidFlags(type: .puback, flags: 1)),
        ("PUBREL without 0b0010", [0x60, 0x02, 0x00, 0x01], .invalidFlags(type: .pubrel, flags: 0)),
        (
            "SUBSCRIBE without 0b0010", [0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00],
            .invalidFlags(type: .subscribe, flags: 0)
        ),
        ("UNSUBSCRIBE flags", [0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, 0x61], .invalidFlags(type: .unsubscribe, flags: 0)),
        ("CONNACK flags", [0x28, 0x02, 0x00, 0x00], .invalidFlags(type: .connack, flags: 8)),
        ("PINGRESP flags", [0xD1, 0x00], .invalidFlags(type: .pingresp, flags: 1)),
        ("remaining length of 5 bytes", [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], .malformedRemainingLength),
        ("remaining length 4 continuation bytes", [0x30, 0x80, 0x80, 0x80, 0x80], .malformedRemainingLength),
        (
            "268,435,455 bytes announced", [0x90, 0xFF, 0xFF, 0xFF, 0x7F],
            .packetTooLarge(size: 268_435_460, limit: 1 << 20)
        ),
        ("one byte over", [0xB0, 0xFD, 0xFF, 0x3F], .packetTooLarge(size: 1_048_577, limit: 1 << 20)),
        ("CONNACK too short", [0x20, 0x01, 0x00], .truncated(field: "CONNACK return code")),
        ("PUBACK too short", [0x40, 0x01, 0x00], .truncated(field: "packet identifier")),
        ("PUBLISH topic length cut", [0x30, 0x01, 0x00], .truncated(field: "topic length")),
        ("PUBLISH topic longer than packet", [0x30, 0x04, 0x00, 0x05, 0x61, 0x62], .truncated(field: "topic")),
        ("PUBLISH QoS 1 without id", [0x32, 0x03, 0x00, 0x01, 0x61], .truncated(field: "packet identifier")),
        ("SUBACK without codes", [0x90, 0x02, 0x00, 0x01], .truncated(field: "SUBACK return code")),
        ("QoS 3", [0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01], .invalidQoS(3)),
        ("QoS 3 first byte only", [0x3E], .invalidQoS(3)),
        ("SUBSCRIBE QoS 3", [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x03], .invalidQoS(3)),
        ("PUBLISH id 0", [0x32, 0x05, 0x00, 0x01, 0x61, 0x00, 0x00], .zeroPacketID(.publish)),
        ("PUBACK id 0", [0x40, 0x02, 0x00, 0x00], .zeroPacketID(.puback)),
        ("PUBREL id 0", [0x62, 0x02, 0x00, 0x00], .zeroPacketID(.pubrel)),
        ("SUBACK id 0", [0x90, 0x03, 0x00, 0x00, 0x00], .zeroPacketID(.suback)),
        ("UNSUBACK id 0", [0xB0, 0x02, 0x00, 0x00], .zeroPacketID(.unsuback)),
        ("PUBACK trailing byte", [0x40, 0x03, 0x00, 0x01, 0x09], .trailingBytes(type: .puback, count: 1)),
        ("PINGRESP with body", [0xD0, 0x01, 0x00], .trailingBytes(type: .pingresp, count: 1)),
        ("CONNACK trailing", [0x20, 0x03, 0x00, 0x00, 0x00], .trailingBytes(type: .connack, count: 1)),
        ("CONNACK reserved bits", [0x20, 0x02, 0x02, 0x00], .invalidField("CONNACK flags 2")),
        ("CONNACK unknown code", [0x20, 0x02, 0x00, 0x06], .invalidField("CONNACK return code 6")),
        ("SUBACK unknown code", [0x90, 0x03, 0x00, 0x01, 0x03], .invalidField("SUBACK return code 3")),
        (
            "CONNECT wrong protocol",
            [0x10, 0x0C, 0x00, 0x04, 0x4D, 0x51, 0x49, 0x73, 0x03, 0x02, 0x00, 0x3C, 0x00, 0x00],
            .unsupportedProtocol(name: "MQIs", level: 3)
        ),
    ]

    @Test(arguments: malformed)
    func rejectsMalformedInput(name: String, bytes: [UInt8], error: MQTTProtocolError) {
        #expect(throws: error, "\(name)") { try decode(bytes) }
    }

    @Test func oversizedPublishWithBrokenFieldsStillFails() {
        // Refusing needs a topic and (QoS > 0) a packet identifier to acknowledge; without them it is fatal.
        #expect(throws: MQTTProtocolError.truncated(field: "topic")) {
            try decode([0x32, 0x0C, 0x00, 0x20] + [UInt8](repeating: 0x61, count: 10), maxPacketSize: 10)
        }
        #expect(throws: MQTTProtocolError.zeroPacketID(.publish)) {
            try decode([0x32, 0x09, 0x00, 0x01, 0x61, 0x00, 0x00, 1, 2, 3, 4], maxPacketSize: 10)
        }
    }

    @Test func hugeRemainingLengthIsRejectedFromTheHeaderAlone() {
        // Only the 5 header bytes are present: the decoder must not wait for (or allocate) the body.
        var buffer = ByteBuffer(bytes: [0x90, 0xFF, 0xFF, 0xFF, 0x7F])
        var decoder = MQTTPacketDecoder(maxPacketSize: 1 << 20)
        #expect(throws: MQTTProtocolError.packetTooLarge(size: 268_435_460, limit: 1_048_576)) {
            try decoder.decode(&buffer)
        }
        #expect(buffer.capacity < 1024)
    }

    @Test func partialInputNeedsMoreAndConsumesNothing() throws {
        let full = try MQTTPacket.publish(
            MQTTPublish(topic: "a/b", payload: ByteBuffer(string: "hello"), qos: .atLeastOnce, packetID: 3)
        ).encoded()
        for length in 0..<full.readableBytes {
            var partial = full.getSlice(at: 0, length: length)!
            var decoder = MQTTPacketDecoder()
            #expect(try decoder.decode(&partial) == nil)
            #expect(partial.readableBytes == length)
        }
    }

    @Test func byteByByteFeedDecodesIdentically() throws {
        var stream = ByteBuffer()
        let packets = PacketEncoderTests.cases.map(\.1)
        for packet in packets { try packet.write(into: &stream) }
        var decoder = MQTTPacketDecoder()

        var whole = stream
        var decodedWhole: [MQTTPacket] = []
        while let packet = try decoder.decode(&whole) { decodedWhole.append(packet) }
        #expect(decodedWhole == packets)
        #expect(whole.readableBytes == 0)

        var accumulated = ByteBuffer()
        var decodedBytewise: [MQTTPacket] = []
        for byte in stream.readableBytesView {
            accumulated.writeInteger(byte)
            while let packet = try decoder.decode(&accumulated) { decodedBytewise.append(packet) }
        }
        #expect(decodedBytewise == packets)
        #expect(accumulated.readableBytes == 0)
    }

    @Test func randomBytesNeverCrash() {
        var generator = SplitMix64(seed: 0x5EED)
        var packets = 0
        var errors = 0
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...64, using: &generator)
            var buffer = ByteBuffer(bytes: (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            var decoder = MQTTPacketDecoder(maxPacketSize: 4096)
            do {
                while (try decoder.decode(&buffer)) != nil { packets += 1 }
            } catch {
                errors += 1
            }
        }
        #expect(errors > 0)
        #expect(errors + packets > 10_000)
    }

    @Test func mutatedValidPacketsNeverCrash() throws {
        var generator = SplitMix64(seed: 42)
        let encodings = try PacketEncoderTests.cases.map { try Array($0.1.encoded().readableBytesView) }
        var decoded = 0
        var refused = 0
        for _ in 0..<20_000 {
            var bytes = encodings.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            var buffer = ByteBuffer(bytes: bytes)
            var decoder = MQTTPacketDecoder()
            do {
                while let packet = try decoder.decode(&buffer) {
                    decoded += 1
                    // A refused PUBLISH keeps only its first bytes; it is not meant to round-trip.
                    if case .publish(let publish) = packet, publish.refusal != nil { continue }
                    // Whatever decodes must re-encode, to bytes that decode to the same packet.
                    var encoding = try packet.encoded()
                    var fresh = MQTTPacketDecoder()
                    #expect(try fresh.decode(&encoding) == packet, "\(packet)")
                    #expect(encoding.readableBytes == 0)
                }
            } catch {
                refused += 1
            }
        }
        // The mutations reach both outcomes, so the loop checks something.
        #expect(decoded > 1_000 && refused > 1_000, "decoded \(decoded), refused \(refused)")
    }
}
