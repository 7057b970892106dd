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

@Suite(.serialized) struct IngestTests {
    /// The seed-format JSON of reading `index`; values derive from the index so they can be checked.
    static func reading(_ index: Int, device: String) -> String {
        let timestamp = RFC3339.format(1_763_375_400_000_000_000 + Int64(index) * 1_000_000)
        return
            #"{"device_id":"\#(device)","temperature":\#(Double(index % 1000) / 10),"humidity":\#(index % 100),"#
            + #""vibration":0.12,"sound":45.8,"cycle_count":\#(index),"timestamp":"\#(timestamp)"}"#
    }

    @Test func tenThousandReadingsInTenThousandPointsOut() async throws {
        try await PipelineFixture.with { fixture in
            let app = try buildApplication(configuration: try fixture.configuration(), logger: testLogger)
            try await app.test(.live) { _ in
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
                #expect(point["time"]?.int == 1_763_375_400_000_000_000 + 1237 * 1_000_000)
            }
        }
    }

    @Test func invalidMessagesAreDeadLetteredAndDoNotStall() async throws {
        try await PipelineFixture.with { fixture in
            let app = try buildApplication(configuration: try fixture.configuration(), logger: testLogger)
            try await app.test(.live) { client in
                try await withMQTTClient(url: fixture.broker.url) { mqtt in
                    _ = try await mqtt.subscribe([("factory/sensor/deadletter", .atLeastOnce)])
                    let bad: [(String, String)] = [
                        ("factory/sensor/data/a", "not json"),
                        ("factory/sensor/data/a", #"{"device_id":"b","temperature":20}"#),
                        ("factory/sensor/data", #"{"temperature":20}"#),
                        ("factory/sensor/data/a", #"{"device_id":"a","temperature":9000}"#),
                        ("factory/sensor/data/a", #"{"device_id":"a","pressure":1}"#),
                    ]
                    for (index, (topic, payload)) in bad.enumerated() {
                        try await mqtt.publish(
                            topic: topic, payload: ByteBuffer(string: payload), qos: .atLeastOnce)
                        try await mqtt.publish(
                            topic: "factory/sensor/data/good",
                            payload: ByteBuffer(string: Self.reading(index, device: "good")),
                            qos: .atLeastOnce)
                    }
                    var letters: [[String: Any]] = []
                    for await message in mqtt.messages {
                        mqtt.acknowledge(message)
                        let object =
                            try JSONSerialization.jsonObject(with: Data(buffer: message.payload)) as? [String: Any]
                        letters.append(object ?? [:])
                        if letters.count == bad.count { break }
                    }
                    #expect(letters.map { $0["topic"] as? String } == bad.map(\.0))
                    #expect(letters.map { $0["payload"] as? String } == bad.map(\.1))
                    let reasons = letters.compactMap { $0["reason"] as? String }
                    #expect(reasons[0].contains("invalid JSON"))
                    #expect(reasons[1].contains("does not match"))
                    #expect(reasons[2].contains("device_id: required"))
                    #expect(reasons[3].contains("outside the valid range"))
                    #expect(reasons[4].contains("unknown field"))
                }
                #expect(try await fixture.waitForCount(bad.count) == 5)
                try await client.execute(uri: "/metrics", method: .get) { response in
                    let text = String(buffer: response.body)
                    #expect(text.contains("moby_messages_rejected_total 5"))
                    #expect(text.contains("moby_readings_stored_total 5"))
                }
            }
        }
    }

    @Test func publishEndpointValidatesAndPublishes() async throws {
        try await PipelineFixture.with { fixture in
            let app = try buildApplication(configuration: try fixture.configuration(), logger: testLogger)
            try await app.test(.live) { client in
                try await client.execute(
                    uri: "/publish", method: .post,
                    body: ByteBuffer(string: #"{"device_id":"x","temperature":"warm","sound":-5}"#)
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    let errors = body?["errors"] as? [[String: String]]
                    #expect(errors?.map { $0["field"] } == ["temperature", "sound"])
                }
                try await client.execute(uri: "/publish", method: .post, body: ByteBuffer(string: "{")) { response in
                    #expect(response.status == .unprocessableContent)
                }
                try await client.execute(
                    uri: "/publish", method: .post,
                    body: ByteBuffer(string: Self.reading(42, device: "http_device"))
                ) { response in
                    #expect(response.status == .accepted)
                    #expect(String(buffer: response.body).contains("factory/sensor/data/http_device"))
                }
                #expect(try await fixture.waitForCount(1) == 1)
            }
        }
    }

    @Test func readinessReportsInfluxOutage() async throws {
        try await PipelineFixture.with { fixture in
            let app = try buildApplication(configuration: try fixture.configuration(), logger: testLogger)
            try await app.test(.live) { client in
                try await client.execute(uri: "/health", method: .get) { response in
                    #expect(response.status == .ok)
                }
                var ready = HTTPResponse.Status.serviceUnavailable
                for _ in 0..<50 where ready != .ok {
                    ready = try await client.execute(uri: "/health/ready", method: .get) { $0.status }
                    if ready != .ok { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(ready == .ok)
                fixture.influx.stop()
                try await client.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let text = String(buffer: response.body)
                    #expect(text.contains("\"reachable\":false"))
                }
            }
        }
    }
}
