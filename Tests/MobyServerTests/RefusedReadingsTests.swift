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

/// A dead letter of a line InfluxDB refused, as the server publishes it.
struct RefusedLetter: Decodable {
    var topic: String
    var payload: String
    var reason: String
    var line: String?
}

/// Readings InfluxDB refuses (series limit, field-type conflict) through the real pipeline: each
/// is on the dead-letter topic with InfluxDB's reason and its original payload, counted, and a
/// sustained refusal makes the server report itself degraded.
@Suite(.serialized) struct RefusedReadingsTests {
    static let deadLetterTopic = "factory/sensor/deadletter"
    /// A whole second an hour ago: inside the retention period.
    static let base: Int64 = (Int64(Date().timeIntervalSince1970) - 3600) * 1_000_000_000

    /// An ordinary reading (near the catalog's nominal values, so no anomaly) at `timestamp`.
    static func reading(device: String, timestamp: Int64, index: Int) -> String {
        #"{"device_id":"\#(device)","temperature":\#(25 + Double(index % 10) / 10),"humidity":45,"#
            + #""vibration":2,"sound":65,"cycle_count":\#(index),"timestamp":"\#(RFC3339.format(timestamp))"}"#
    }

    /// Takes dead letters from `mqtt` until there are `count`; a wait that times out fails.
    func deadLetters(_ mqtt: MQTTClient, count: Int, timeout: Duration = .seconds(30)) async -> [RefusedLetter] {
        await withTaskGroup(of: [RefusedLetter]?.self) { group in
            group.addTask {
                // Ends with what it has when cancelled (the message stream then finishes).
                var letters: [RefusedLetter] = []
                for await message in mqtt.messages {
                    mqtt.acknowledge(message)
                    guard
                        let letter = try? JSONDecoder().decode(RefusedLetter.self, from: Data(buffer: message.payload))
                    else {
                        Issue.record("unreadable dead letter: \(String(buffer: message.payload))")
                        continue
                    }
                    letters.append(letter)
                    if letters.count == count { break }
                }
                return letters
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            var received: [RefusedLetter] = []
            var timedOut = false
            while let result = await group.next() {
                if let letters = result {
                    received = letters
                } else {
                    timedOut = true
                }
                group.cancelAll()
            }
            if timedOut && received.count < count {
                Issue.record("\(received.count) of \(count) dead letters within \(timeout)")
            }
            return received
        }
    }

    @Test func readingsOfDevicesBeyondTheSeriesLimitAreDeadLetteredAndTheServerIsDegraded() async throws {
        try await PipelineFixture.with(maxValuesPerTag: 10) { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                try await withMQTTClient(url: fixture.broker.url) { mqtt in
                    _ = try await mqtt.subscribe([(Self.deadLetterTopic, .atLeastOnce)])
                    func publish(devices: Range<Int>) async throws -> [String] {
                        var payloads: [String] = []
                        for device in devices {
                            for index in 0..<3 {
                                let payload = Self.reading(
                                    device: "dev\(device)",
                                    timestamp: Self.base + Int64(device * 10 + index) * 1_000_000,
                                    index: index)
                                try await mqtt.publish(
                                    topic: "factory/sensor/data/dev\(device)", payload: ByteBuffer(string: payload),
                                    qos: .atLeastOnce)
                                payloads.append(payload)
                            }
                        }
                        return payloads
                    }
                    // The first 10 devices are the 10 series InfluxDB allows (max-values-per-tag = 10).
                    _ = try await publish(devices: 0..<10)
                    #expect(try await fixture.waitForCount(30, timeout: .seconds(30)) == 30)
                    // Every reading of 10 more devices is refused.
                    let refused = try await publish(devices: 10..<20)
                    let letters = await deadLetters(mqtt, count: 30)
                    #expect(Set(letters.map(\.payload)) == Set(refused))
                    for letter in letters {
                        #expect(letter.reason.contains("max-values-per-tag limit exceeded"), "\(letter.reason)")
                        #expect(letter.topic.hasPrefix("factory/sensor/data/dev1"))
                        #expect(
                            letter.line?.hasPrefix(
                                "sensors,device_id=\(letter.topic.split(separator: "/").last!),profile=default ")
                                == true,
                            "\(letter.line ?? "no line")")
                    }
                }
                #expect(try await fixture.storedCount() == 30)
                _ = try await metricsText(client, once: "moby_readings_stored_total", is: 30)
                // The counter moves once the broker acknowledged the dead letter, which may be
                // after the subscriber above got it.
                let text = try await metricsText(client, once: "moby_dead_letters_refused_lines_total", is: 30)
                do {
                    #expect(metric("moby_influx_lines_refused_total", in: text) == 30)
                    #expect(metric("moby_readings_stored_total", in: text) == 30)
                    #expect(metric("moby_influx_refusing", in: text) == 1)
                }
                try await client.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let text = String(buffer: response.body)
                    #expect(text.contains(#""refusing":true"#), "\(text)")
                    #expect(text.contains(#""refused_lines_recent":30"#), "\(text)")
                    #expect(text.contains("max-values-per-tag"), "\(text)")
                }
            }
        }
    }

    @Test func aReadingWithAConflictingFieldTypeIsDeadLetteredAndTheRestStored() async throws {
        try await PipelineFixture.with { fixture in
            // Two days back (another shard than the other readings), `temperature` is a string.
            let conflictAt = Self.base - 2 * 86_400 * 1_000_000_000
            try await fixture.influxClient.ensureDatabase()
            try await fixture.influxClient.write(
                ByteBuffer(string: "sensors,device_id=typo temperature=\"warm\" \(conflictAt)\n"))
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                let conflicting = Self.reading(device: "late", timestamp: conflictAt, index: 0)
                try await withMQTTClient(url: fixture.broker.url) { mqtt in
                    _ = try await mqtt.subscribe([(Self.deadLetterTopic, .atLeastOnce)])
                    for index in 0..<10 {
                        if index == 5 {
                            try await mqtt.publish(
                                topic: "factory/sensor/data/late", payload: ByteBuffer(string: conflicting),
                                qos: .atLeastOnce)
                        }
                        try await mqtt.publish(
                            topic: "factory/sensor/data/good",
                            payload: ByteBuffer(
                                string: Self.reading(
                                    device: "good", timestamp: Self.base + Int64(index) * 1_000_000, index: index)),
                            qos: .atLeastOnce)
                    }
                    let letters = await deadLetters(mqtt, count: 1)
                    let letter = try #require(letters.first)
                    #expect(letter.payload == conflicting)
                    #expect(letter.topic == "factory/sensor/data/late")
                    #expect(letter.reason.contains("field type conflict"), "\(letter.reason)")
                    #expect(letter.line?.hasPrefix("sensors,device_id=late,profile=default ") == true)
                }
                // The good readings may be written in a batch after the refused one's.
                let good = try await eventuallyValue("10 good readings stored") { () async throws -> Int64? in
                    let result = try await fixture.influxClient.query(
                        "SELECT count(temperature) FROM sensors WHERE device_id = 'good'")
                    let count = result.first?.series.first?.values.first?.last?.int ?? 0
                    return count >= 10 ? count : nil
                }
                #expect(good == 10)
                let text = try await metricsText(client, once: "moby_readings_stored_total", is: 10)
                do {
                    #expect(metric("moby_influx_lines_refused_total", in: text) == 1)
                    #expect(metric("moby_readings_stored_total", in: text) == 10)
                    #expect(metric("moby_influx_refusing", in: text) == 0)
                }
                // One refused value is reported but does not make the server unready.
                try await client.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .ok)
                    let text = String(buffer: response.body)
                    #expect(text.contains(#""refusing":false"#), "\(text)")
                    #expect(text.contains("field type conflict"), "\(text)")
                }
            }
        }
    }
}
