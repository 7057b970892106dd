import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MQTT
import MobyServer
import MobyTestSupport
import NIOCore
import Testing

/// A dead letter with the size fields a refused message adds.
struct SizedLetter: Decodable {
    var topic: String
    var payload: String
    var reason: String
    var errors: [FieldErrorBody]
    var payloadSize: Int
    var payloadTruncated: Bool?

    struct FieldErrorBody: Decodable {
        var field: String
        var message: String
    }

    enum CodingKeys: String, CodingKey {
        case topic, payload, reason, errors
        case payloadSize = "payload_size"
        case payloadTruncated = "payload_truncated"
    }
}

/// The value of an unlabelled metric in Prometheus text, nil when absent.
func metric(_ name: String, in text: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
        return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
    }
    return nil
}

/// The next message on `client`, or nil after `timeout`.
func nextMessage(_ client: MQTTClient, timeout: Duration) async -> MQTTMessage? {
    await withTaskGroup(of: MQTTMessage?.self) { group in
        group.addTask {
            var iterator = client.messages.makeAsyncIterator()
            return await iterator.next()
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// Issue 11: one oversized message must not stop ingest, and a dead broker link must not look healthy.
@Suite(.serialized) struct BrokerLinkTests {
    @Test func oversizedMessageIsDeadLetteredAcknowledgedAndNotRedelivered() async throws {
        // Mosquitto without max_packet_size: the 2 MiB message reaches the server's client.
        try await PipelineFixture.with(brokerSizeLimit: false) { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                var configuration = try MQTTConfiguration(
                    url: fixture.broker.url, clientID: "big-\(UUID().uuidString.prefix(6))")
                configuration.maxPacketSize = 8 << 20
                let mqtt = MQTTClient(configuration: configuration, logger: testLogger())
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await mqtt.run() }
                    defer { group.cancelAll() }
                    _ = try await mqtt.subscribe([("factory/sensor/deadletter", .atLeastOnce)])
                    let size = 2 << 20
                    let head = #"{"device_id":"big","padding":""#
                    let big = head + String(repeating: "x", count: size - head.utf8.count - 2) + #""}"#
                    try await mqtt.publish(
                        topic: "factory/sensor/data/big", payload: ByteBuffer(string: big), qos: .atLeastOnce)
                    for index in 0..<5 {
                        try await mqtt.publish(
                            topic: "factory/sensor/data/ok",
                            payload: ByteBuffer(string: IngestTests.reading(index, device: "ok")), qos: .atLeastOnce)
                    }
                    let message = try #require(
                        await nextMessage(mqtt, timeout: .seconds(20)), "no dead letter for the oversized message")
                    mqtt.acknowledge(message)
                    let letter = try JSONDecoder().decode(SizedLetter.self, from: Data(buffer: message.payload))
                    #expect(letter.topic == "factory/sensor/data/big")
                    #expect(letter.payloadSize == size)
                    #expect(letter.payloadTruncated == true)
                    #expect(letter.payload == String(big.prefix(MQTTPacketDecoder.refusedPayloadPrefix)))
                    #expect(letter.errors.map(\.field) == ["payload"])
                    #expect(letter.reason.contains("exceeds the client's limit of 1048576 bytes"))

                    #expect(try await fixture.waitForCount(5) == 5)
                    // Acknowledged: no redelivery, hence no second dead letter and no reconnect.
                    let again = await nextMessage(mqtt, timeout: .seconds(2))
                    #expect(again == nil, "the oversized message was redelivered")
                    await mqtt.disconnect()
                }
                try await client.execute(uri: "/metrics", method: .get) { response in
                    let text = String(buffer: response.body)
                    #expect(metric("moby_mqtt_connects_total", in: text) == 1)
                    #expect(metric("moby_mqtt_disconnects_total", in: text) == 0)
                    #expect(metric("moby_mqtt_messages_received_total", in: text) == 6)
                    #expect(metric("moby_mqtt_messages_refused_total", in: text) == 1)
                    #expect(metric("moby_readings_stored_total", in: text) == 5)
                    #expect(metric("moby_dead_letters_published_total", in: text) == 1)
                }
            }
        }
    }

    @Test func blackHoledBrokerLinkTurnsNotReadyAndHealsWithoutLoss() async throws {
        try await PipelineFixture.with { fixture in
            try await TCPProxy.with(targetPort: fixture.broker.port) { proxy in
                let keepAlive = 2
                let pingTimeout = 1
                let configuration = try fixture.configuration([
                    "moby.mqtt.url": "mqtt://127.0.0.1:\(proxy.port)",
                    "moby.mqtt.keepalive.seconds": "\(keepAlive)",
                    "moby.mqtt.ping.timeout.seconds": "\(pingTimeout)",
                ])
                let app = try await buildApplication(configuration: configuration, logger: testLogger())
                try await app.test(.live) { client in
                    try await waitUntilReady(client)
                    #expect(metric("moby_mqtt_connected", in: try await metricsText(client)) == 1)
                    let before = 20
                    let during = 80
                    // Publishers talk to the broker directly; only the server's link is cut.
                    try await withMQTTClient(url: fixture.broker.url) { publisher in
                        for index in 0..<before {
                            try await publisher.publish(
                                topic: "factory/sensor/data/link",
                                payload: ByteBuffer(string: IngestTests.reading(index, device: "link")),
                                qos: .atLeastOnce)
                        }
                        #expect(try await fixture.waitForCount(before) == before)

                        proxy.blackHole()
                        let cut = ContinuousClock.now
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                // 100 ms apart for 8 s: through the outage and past the heal.
                                for index in before..<(before + during) {
                                    try await publisher.publish(
                                        topic: "factory/sensor/data/link",
                                        payload: ByteBuffer(string: IngestTests.reading(index, device: "link")),
                                        qos: .atLeastOnce)
                                    try await Task.sleep(for: .milliseconds(100))
                                }
                            }
                            // Not ready within keep-alive + ping timeout (+ a margin for a loaded machine).
                            let bound = Duration.seconds(keepAlive + pingTimeout) + .seconds(5)
                            var noticed: Duration?
                            while ContinuousClock.now - cut < bound {
                                if !(try await isReady(client)) {
                                    noticed = ContinuousClock.now - cut
                                    break
                                }
                                try await Task.sleep(for: .milliseconds(50))
                            }
                            #expect(noticed != nil, "/health/ready stayed 200 for \(bound) of a dead link")
                            // The metrics show it too (the gauge follows the connection events).
                            var text = try await metricsText(client)
                            let metricsDeadline = ContinuousClock.now + .seconds(1)
                            while metric("moby_mqtt_connected", in: text) != 0 && ContinuousClock.now < metricsDeadline
                            {
                                try await Task.sleep(for: .milliseconds(20))
                                text = try await metricsText(client)
                            }
                            #expect(metric("moby_mqtt_connected", in: text) == 0)
                            #expect((metric("moby_mqtt_keepalive_timeouts_total", in: text) ?? 0) >= 1)

                            // Long enough for Mosquitto to drop the silent session and queue for it.
                            try await Task.sleep(until: cut + .seconds(6))
                            #expect(!(try await isReady(client)))
                            proxy.heal()
                            try await group.waitForAll()
                        }
                    }
                    try await waitUntilReady(client, timeout: .seconds(30))
                    let total = before + during
                    #expect(try await fixture.waitForCount(total) == total)
                    #expect(metric("moby_mqtt_connected", in: try await metricsText(client)) == 1)
                }
            }
        }
    }
}
