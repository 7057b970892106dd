import MobyTestSupport
import Testing

@testable import MQTT

/// The client against a scripted broker: protocol errors, refusals, silence, QoS 2 inbound and
/// acknowledgement order.
@Suite(.timeLimit(.minutes(1)))
struct MisbehavingBrokerTests {
    @Test(
        arguments: [
            ([0xF0, 0x00], MQTTProtocolError.reservedPacketType(15)),
            ([0x90, 0xFF, 0xFF, 0xFF, 0x7F], .packetTooLarge(size: 268_435_460, limit: 1_048_576)),
            ([0x40, 0x02, 0x00, 0x00], .zeroPacketID(.puback)),
            (wire(.pingreq), .unexpectedPacket(.pingreq)),
        ] as [([UInt8], MQTTProtocolError)])
    func protocolErrorsCloseTheConnectionAndTheClientReconnects(bytes: [UInt8], error: MQTTProtocolError)
        async throws
    {
        let broker = try await FakeBroker { packet, _ in
            if case .connect = packet { [connackAccepted, bytes] } else { [] }
        }
        let client = makeClient(port: broker.port, id: "victim")
        let events = client.connectionEvents()
        let running = RunningClient(client)
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next() == .connected(sessionPresent: false))
        #expect(await iterator.next() == .disconnected(.protocolError(error)))
        #expect(await iterator.next() == .connected(sessionPresent: false))
        #expect(broker.connections >= 2)
        await running.stop()
        await broker.close()
    }

    @Test func refusedPublishesAreDeliveredMarkedAndAcknowledgedOnTheSameConnection() async throws {
        // A wildcard topic and a 2 MiB payload: once the cause of a close-and-redeliver-forever loop.
        let invalidTopic = RefusedPublishTests.publishWire(
            topic: Array("a/#".utf8), qos: .atLeastOnce, packetID: 5, payloadSize: 3)
        let oversized = RefusedPublishTests.publishWire(
            topic: Array("big".utf8), qos: .atLeastOnce, packetID: 6, payloadSize: 2 << 20)
        let fine = wire(
            .publish(MQTTPublish(topic: "ok", payload: ByteBuffer(string: "ok"), qos: .atLeastOnce, packetID: 7)))
        let bytes = Array(invalidTopic.readableBytesView) + Array(oversized.readableBytesView) + fine
        let broker = try await FakeBroker { packet, _ in
            if case .connect = packet { [connackAccepted, bytes] } else { [] }
        }
        let client = makeClient(port: broker.port, id: "refusing")
        let running = try await RunningClient.connected(client)
        let collector = Collector(running.client, autoAck: false)
        let messages = try await collector.wait(for: 3)
        #expect(messages.map(\.packetID) == [5, 6, 7])
        #expect(messages[0].refusal?.topicProblem == "the topic name contains a wildcard (+ or #)")
        #expect(messages[1].refusal?.problems == [.tooLarge(packetSize: oversized.readableBytes, limit: 1 << 20)])
        #expect(messages[1].refusal?.payloadSize == 2 << 20)
        #expect(messages[1].payload.readableBytes == MQTTPacketDecoder.refusedPayloadPrefix)
        #expect(messages[2].refusal == nil)
        running.client.acknowledge(contentsOf: messages)
        try await eventually("3 PUBACKs") { broker.received.filter { $0.type == .puback }.count == 3 }
        #expect(broker.received.suffix(3) == [.puback(packetID: 5), .puback(packetID: 6), .puback(packetID: 7)])
        #expect(broker.connections == 1)
        #expect(client.isConnected)
        await running.stop()
        await broker.close()
    }

    @Test func refusedConnectionAndMissingConnAck() async throws {
        let refusing = try await FakeBroker { packet, _ in
            if case .connect = packet {
                [wire(.connack(MQTTConnAck(sessionPresent: false, returnCode: .identifierRejected)))]
            } else {
                []
            }
        }
        let rejected = makeClient(port: refusing.port, id: "rejected") { $0.reconnect = nil }
        await #expect(throws: MQTTClientError.connectionRefused(.identifierRejected)) { try await rejected.run() }
        await refusing.close()

        let silent = try await FakeBroker { _, _ in [] }
        let waiting = makeClient(port: silent.port, id: "waiting") {
            $0.reconnect = nil
            $0.connectTimeout = .milliseconds(300)
        }
        let start = ContinuousClock.now
        await #expect(throws: MQTTClientError.connectTimeout) { try await waiting.run() }
        // Bounded by the connect timeout, not by TCP (minutes); generous for a loaded CI machine.
        #expect(ContinuousClock.now - start < .seconds(15))
        #expect(silent.received.count == 1)
        await silent.close()
    }

    @Test func refusedSubscriptionThrows() async throws {
        let broker = try await FakeBroker { packet, _ in
            switch packet {
            case .connect: [connackAccepted]
            case .subscribe(let subscribe):
                [
                    wire(
                        .suback(
                            MQTTSubAck(packetID: subscribe.packetID, returnCodes: [.granted(.atLeastOnce), .failure])))
                ]
            default: []
            }
        }
        let running = try await RunningClient.connected(makeClient(port: broker.port, id: "refused"))
        await #expect(throws: MQTTClientError.subscriptionRefused(["b"])) {
            try await running.client.subscribe([("a", .exactlyOnce), ("b", .atLeastOnce)])
        }
        // Remembered as requested (the broker may grant more after a restore).
        #expect(running.client.session.subscriptions == [MQTTSubscription(filter: "a", qos: .exactlyOnce)])
        await running.stop()
        await broker.close()
    }

    @Test func inboundQoS2AndAcknowledgementOrder() async throws {
        let broker = try await FakeBroker { packet, _ in
            switch packet {
            case .connect: [connackAccepted]
            case .pubrec(let id): [wire(.pubrel(packetID: id))]
            default: []
            }
        }
        let running = try await RunningClient.connected(makeClient(port: broker.port, id: "qos2-in"))
        let collector = Collector(running.client, autoAck: false)
        let publish = MQTTPublish(topic: "q2", payload: ByteBuffer(string: "once"), qos: .exactlyOnce, packetID: 7)
        // Sent twice before PUBREL: both copies reach the application (at least once is fine).
        try await broker.send([.publish(publish), .publish(publish)], on: 1)
        let two = try await collector.wait(for: 2)
        #expect(two.map(\.packetID) == [7, 7] && two.allSatisfy { $0.text == "once" && $0.qos == .exactlyOnce })
        #expect(!broker.received.contains(.pubrec(packetID: 7)))  // nothing before the app acknowledges
        running.client.acknowledge(two[0])
        try await eventually("PUBCOMP") { broker.received.contains(.pubcomp(packetID: 7)) }
        #expect(broker.received.suffix(2) == [.pubrec(packetID: 7), .pubcomp(packetID: 7)])

        // QoS 1: acknowledgements leave in the order acknowledge() is called.
        let ids = Array(UInt16(100)..<200)
        try await broker.send(
            ids.map { .publish(MQTTPublish(topic: "q1", payload: ByteBuffer(), qos: .atLeastOnce, packetID: $0)) },
            on: 1)
        let received = Array(try await collector.wait(for: 2 + ids.count).dropFirst(2))
        for message in received.reversed() { running.client.acknowledge(message) }
        try await eventually("all PUBACKs") { broker.received.filter { $0.type == .puback }.count == ids.count }
        let acks = broker.received.compactMap { packet -> UInt16? in
            if case .puback(let id) = packet { id } else { nil }
        }
        #expect(acks == ids.reversed())
        // QoS 0 needs no acknowledgement.
        running.client.acknowledge(MQTTMessage(topic: "x", payload: ByteBuffer()))
        await running.stop()
        await broker.close()
    }
}
