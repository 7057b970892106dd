import Foundation
import Hummingbird
import HummingbirdTesting
import Influx
import MQTT
import MobyCore
import MobyServer
import MobyTestSupport
import NIOCore
import Testing

/// A dead letter as published by the server.
struct Letter: Decodable {
    var topic: String
    var payload: String
    var reason: String
    var errors: [FieldError]
    var receivedAt: String

    enum CodingKeys: String, CodingKey {
        case topic, payload, reason, errors
        case receivedAt = "received_at"
    }
}

@Suite(.serialized) struct IngestTests {
    /// A whole second an hour ago: inside the retention period, and the same for a whole test.
    static let base: Int64 = (Int64(Date().timeIntervalSince1970) - 3600) * 1_000_000_000

    /// The seed-format JSON of reading `index`; values derive from the index so they can be checked.
    static func reading(_ index: Int, device: String) -> String {
        let timestamp = RFC3339.format(base + Int64(index) * 1_000_000)
        return
            #"{"device_id":"\#(device)","temperature":\#(Double(index % 1000) / 10),"humidity":\#(index % 100),"#
            + #""vibration":0.12,"sound":45.8,"cycle_count":\#(index),"timestamp":"\#(timestamp)"}"#
    }

    @Test func tenThousandReadingsInTenThousandPointsOut() async throws {
        try await PipelineFixture.with { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                let total = 10_000
                let devices = 10
                try await withMQTTClient(url: fixture.broker.url) { publisher in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for device in 0..<devices {
                            group.addTask {
                                for index in stride(from: device, to: total, by: devices) {
                                    try await publisher.publish(
                                        topic: "factory/sensor/data/dev\(device)",
                                        payload: ByteBuffer(string: Self.reading(index, device: "dev\(device)")),
                                        qos: .atLeastOnce)
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                let stored = try await fixture.waitForCount(total)
                #expect(stored == total)
                // Values: sums over all points equal the sums of what was published.
                let sums = try await fixture.influxClient.query(
                    "SELECT sum(temperature), sum(humidity), sum(cycle_count), count(sound) FROM sensors")
                let row = try #require(sums.first?.series.first?.values.first)
                let expectedTemperature = (0..<total).reduce(0.0) { $0 + Double($1 % 1000) / 10 }
                #expect(abs((row[1].double ?? 0) - expectedTemperature) < 0.01)
                #expect(row[2].double == Double((0..<total).reduce(0) { $0 + $1 % 100 }))
                #expect(row[3].int == Int64((0..<total).reduce(0, +)))
                #expect(row[4].int == Int64(total))
                let perDevice = try await fixture.influxClient.query(
                    "SELECT count(temperature) FROM sensors GROUP BY device_id")
                #expect(perDevice.first?.series.count == devices)
                #expect(
                    perDevice.first?.series.allSatisfy { $0.values.first?.last?.int == Int64(total / devices) } == true)
                // A spot check of one point, field by field.
                let one = try await fixture.influxClient.query(
                    "SELECT temperature, humidity, cycle_count FROM sensors WHERE device_id = 'dev7' AND cycle_count = 1237"
                )
                let point = try #require(one.first?.series.first?.rows.first)
                #expect(point["temperature"]?.double == 23.7)
                #expect(point["humidity"]?.double == 37)
                #expect(point["time"]?.int == Self.base + 1237 * 1_000_000)
            }
        }
    }

    @Test func qos2ReadingsAreStoredExactlyOnce() async throws {
        try await PipelineFixture.with { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                let total = 500
                try await withMQTTClient(url: fixture.broker.url) { publisher in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<total {
                            group.addTask {
                                try await publisher.publish(
                                    topic: "factory/sensor/data/q2",
                                    payload: ByteBuffer(string: Self.reading(index, device: "q2")), qos: .exactlyOnce)
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                #expect(try await fixture.waitForCount(total) == total)
                let sum = try await fixture.influxClient.query("SELECT sum(cycle_count) FROM sensors")
                #expect(sum.first?.series.first?.values.first?.last?.int == Int64(total * (total - 1) / 2))
            }
        }
    }

    @Test func invalidMessagesAreDeadLetteredAndDoNotStall() async throws {
        try await PipelineFixture.with { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                try await withMQTTClient(url: fixture.broker.url) { mqtt in
                    _ = try await mqtt.subscribe([("factory/sensor/deadletter", .atLeastOnce)])
                    let bad: [(String, String)] = [
                        ("factory/sensor/data/a", "not json"),
                        ("factory/sensor/data/a", #"{"device_id":"b","temperature":20}"#),
                        ("factory/sensor/data", #"{"temperature":20}"#),
                        ("factory/sensor/data/a", #"{"device_id":"a","temperature":9000}"#),
                        ("factory/sensor/data/a", #"{"device_id":"a","pressure":1}"#),
                        ("factory/sensor/data/a", #"{"device_id":"a","sound":1,"timestamp":"2001-01-01T00:00:00Z"}"#),
                    ]
                    for (index, (topic, payload)) in bad.enumerated() {
                        try await mqtt.publish(
                            topic: topic, payload: ByteBuffer(string: payload), qos: .atLeastOnce)
                        try await mqtt.publish(
                            topic: "factory/sensor/data/good",
                            payload: ByteBuffer(string: Self.reading(index, device: "good")),
                            qos: .atLeastOnce)
                    }
                    var letters: [Letter] = []
                    for await message in mqtt.messages {
                        mqtt.acknowledge(message)
                        letters.append(try JSONDecoder().decode(Letter.self, from: Data(buffer: message.payload)))
                        if letters.count == bad.count { break }
                    }
                    #expect(letters.map(\.topic) == bad.map(\.0))
                    #expect(letters.map(\.payload) == bad.map(\.1))
                    #expect(letters.allSatisfy { !$0.errors.isEmpty && $0.receivedAt.hasSuffix("Z") })
                    let reasons = letters.map(\.reason)
                    #expect(reasons[0].contains("invalid JSON"))
                    #expect(reasons[1].contains("does not match"))
                    #expect(reasons[2].contains("device_id: required"))
                    #expect(reasons[3].contains("outside the valid range"))
                    #expect(reasons[4].contains("unknown field"))
                    #expect(reasons[5].contains("older than the retention period"))
                }
                #expect(try await fixture.waitForCount(6) == 6)
                let text = try await metricsText(client, once: "moby_readings_stored_total", is: 6)
                #expect(text.contains("moby_messages_rejected_total 6"))
                #expect(text.contains("moby_readings_stored_total 6"))
            }
        }
    }

    @Test func publishEndpointValidatesAndPublishes() async throws {
        try await PipelineFixture.with { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                try await client.execute(
                    uri: "/publish", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: #"{"device_id":"x","temperature":"warm","sound":-5}"#)
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    struct Body: Decodable {
                        var error: String
                        var errors: [FieldError]
                    }
                    let body = try JSONDecoder().decode(Body.self, from: Data(buffer: response.body))
                    #expect(body.errors.map(\.field) == ["temperature", "sound"])
                    #expect(!body.error.isEmpty)
                }
                try await client.execute(
                    uri: "/publish", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: "{")
                ) { response in
                    #expect(response.status == .unprocessableContent)
                }
                try await client.execute(
                    uri: "/publish", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: Self.reading(42, device: "http_device"))
                ) { response in
                    #expect(response.status == .accepted)
                    struct Body: Decodable {
                        var status: String
                        var topic: String
                    }
                    let body = try JSONDecoder().decode(Body.self, from: Data(buffer: response.body))
                    #expect(body.topic == "factory/sensor/data/http_device")
                    #expect(body.status == "accepted")
                }
                #expect(try await fixture.waitForCount(1) == 1)
            }
        }
    }

    @Test func readinessReportsInfluxOutage() async throws {
        try await PipelineFixture.with { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await client.execute(uri: "/health", method: .get) { response in
                    #expect(response.status == .ok)
                }
                try await waitUntilReady(client)
                await fixture.influx.process.stopOffThread(timeout: 2)
                try await client.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let text = String(buffer: response.body)
                    #expect(text.contains("\"reachable\":false"))
                }
            }
        }
    }
}
