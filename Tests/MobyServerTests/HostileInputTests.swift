import Foundation
import Hummingbird
import HummingbirdTesting
import MQTT
import MobyCore
import MobyServer
import MobyTestSupport
import NIOCore
import Testing

/// What a probe of the running server found (issue 11): requests and messages that crashed it,
/// were accepted and then dropped, overwrote each other or grew memory without bound. Each test
/// runs against the real server with a real broker and InfluxDB.
@Suite(.serialized) struct HostileInputTests {
    static let json: HTTPFields = [.contentType: "application/json"]

    /// A whole second an hour ago.
    static let base: Int64 = (Int64(Date().timeIntervalSince1970) - 3600) * 1_000_000_000

    struct ErrorBody: Decodable {
        var error: String
        var errors: [FieldError]?
    }

    @Test func readingRangesThatOverflowAreRefusedAndTheServerLives() async throws {
        try await PipelineFixture.with { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                let cases: [(String, HTTPResponse.Status, String?)] = [
                    ("device=x&from=1900-01-01T00:00:00Z&to=2200-01-01T00:00:00Z", .badRequest, "at most"),
                    ("device=x&to=1677-09-21T00:30:00Z", .ok, nil),
                    (
                        "device=x&from=1677-09-21T00:12:43.145224194Z&to=2262-04-11T23:47:16.854775806Z", .badRequest,
                        "at most"
                    ),
                    ("device=x&from=2262-04-11T23:47:16Z&to=1677-09-21T00:30:00Z", .badRequest, "before"),
                    ("device=x&to=9999-12-31T23:59:59Z", .badRequest, "RFC 3339"),
                    ("device=x&points=99999999999999999999", .badRequest, "whole number"),
                    ("device=a%0Ab", .badRequest, "U+000A"),
                    ("device=a+b", .badRequest, "a space"),
                    ("device=a%2Bb", .badRequest, "'+'"),
                    ("device=%ZZ", .badRequest, "percent"),
                    ("device=x&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&points=1", .ok, nil),
                ]
                for (query, status, message) in cases {
                    try await client.execute(uri: "/api/v1/readings?" + query, method: .get) { response in
                        #expect(response.status == status, "\(query): \(String(buffer: response.body))")
                        if let message {
                            #expect(String(buffer: response.body).contains(message), "\(query)")
                        }
                    }
                }
                try await client.execute(uri: "/api/v1/alerts?device=a%0Ab", method: .get) { response in
                    #expect(response.status == .badRequest)
                }
                try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            }
        }
    }

    @Test func publishAcceptsOnlyWhatIngestWillStore() async throws {
        try await PipelineFixture.with { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                let good = #"{"device_id":"http-1","temperature":21.5}"#
                for headers: HTTPFields in [
                    [:], [.contentType: "text/plain"], [.contentType: "application/x-www-form-urlencoded"],
                ] {
                    try await client.execute(
                        uri: "/publish", method: .post, headers: headers, body: ByteBuffer(string: good)
                    ) { response in
                        #expect(response.status == .unsupportedMediaType)
                        #expect(String(buffer: response.body).contains("Content-Type"))
                    }
                }
                let refused: [(String, String)] = [
                    (#"{"device_id":"dev\\","temperature":20}"#, "device_id"),
                    (#"{"device_id":"sensor\u200b1","temperature":20}"#, "device_id"),
                    (#"{"device_id":"\u202eevil","temperature":20}"#, "device_id"),
                    (#"{"device_id":"   ","temperature":20}"#, "device_id"),
                    (#"{"device_id":"old","temperature":20,"timestamp":"2001-01-01T00:00:00Z"}"#, "timestamp"),
                ]
                for (body, field) in refused {
                    try await client.execute(
                        uri: "/publish", method: .post, headers: Self.json, body: ByteBuffer(string: body)
                    ) { response in
                        #expect(response.status == .unprocessableContent, "\(body)")
                        let decoded = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                        #expect(decoded.errors?.map(\.field) == [field], "\(body)")
                    }
                }
                try await client.execute(
                    uri: "/publish", method: .post, headers: [.contentType: "application/json; charset=utf-8"],
                    body: ByteBuffer(string: good)
                ) { response in
                    #expect(response.status == .accepted)
                }
                #expect(try await fixture.waitForCount(1) == 1)
            }
        }
    }

    @Test func newDevicesBeyondTheLimitAreDeadLetteredAndTheListIsPaged() async throws {
        try await PipelineFixture.with { fixture in
            let configuration = try fixture.configuration(["moby.max.devices": "3"])
            let app = try await buildApplication(configuration: configuration, logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                try await withMQTTClient(url: fixture.broker.url) { mqtt in
                    _ = try await mqtt.subscribe([("factory/sensor/deadletter", .atLeastOnce)])
                    for device in 1...5 {
                        for index in 0..<2 {
                            let payload =
                                #"{"device_id":"d\#(device)","temperature":20,"timestamp":"\#(RFC3339.format(Self.base + Int64(index) * 1_000_000))"}"#
                            try await mqtt.publish(
                                topic: "factory/sensor/data/d\(device)", payload: ByteBuffer(string: payload),
                                qos: .atLeastOnce)
                        }
                    }
                    let letters = try await Self.deadLetters(mqtt, count: 4)
                    #expect(letters.map(\.topic) == ["d4", "d4", "d5", "d5"].map { "factory/sensor/data/\($0)" })
                    #expect(letters.allSatisfy { $0.reason.contains("limit of 3 devices") })
                }
                #expect(try await fixture.waitForCount(6) == 6)
                try await client.execute(
                    uri: "/publish", method: .post, headers: Self.json,
                    body: ByteBuffer(string: #"{"device_id":"d9","temperature":20}"#)
                ) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(String(buffer: response.body).contains("MOBY_MAX_DEVICES"))
                }
                struct Page: Decodable {
                    struct Device: Decodable {
                        var deviceID: String
                        enum CodingKeys: String, CodingKey { case deviceID = "device_id" }
                    }
                    var devices: [Device]
                    var total: Int
                    var limit: Int
                    var offset: Int
                    var maxDevices: Int
                    enum CodingKeys: String, CodingKey {
                        case devices, total, limit, offset
                        case maxDevices = "max_devices"
                    }
                }
                try await client.execute(uri: "/api/v1/devices?limit=2&offset=1", method: .get) { response in
                    let page = try JSONDecoder().decode(Page.self, from: Data(buffer: response.body))
                    #expect(page.devices.map(\.deviceID) == ["d2", "d3"])
                    #expect(page.total == 3 && page.limit == 2 && page.offset == 1 && page.maxDevices == 3)
                }
                try await client.execute(uri: "/api/v1/devices?limit=0", method: .get) { response in
                    #expect(response.status == .badRequest)
                }
                try await client.execute(uri: "/metrics", method: .get) { response in
                    let text = String(buffer: response.body)
                    #expect(metric("moby_devices", in: text) == 3)
                    #expect(metric("moby_devices_limit", in: text) == 3)
                    #expect(metric("moby_readings_refused_device_limit_total", in: text) == 4)
                }
            }
        }
    }

    @Test func readingsSharingATimestampAreAllKeptAndRedeliveriesStillOverwrite() async throws {
        try await PipelineFixture.with { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                let second = RFC3339.format(Self.base)
                func reading(_ value: Int, timestamp: String = second) -> String {
                    #"{"device_id":"burst","temperature":\#(20 + value),"cycle_count":\#(value),"timestamp":"\#(timestamp)"}"#
                }
                let millisecond = RFC3339.format(Self.base + 7_000_000)
                try await withMQTTClient(url: fixture.broker.url) { mqtt in
                    _ = try await mqtt.subscribe([("factory/sensor/deadletter", .atLeastOnce)])
                    // Ten readings stamped to the same second, then one of them again (a redelivery).
                    for value in 0..<10 {
                        try await mqtt.publish(
                            topic: "factory/sensor/data/burst", payload: ByteBuffer(string: reading(value)),
                            qos: .atLeastOnce)
                    }
                    try await mqtt.publish(
                        topic: "factory/sensor/data/burst", payload: ByteBuffer(string: reading(3)), qos: .atLeastOnce)
                    // Two different readings stamped to the same millisecond: the second cannot be kept apart.
                    for value in [100, 101] {
                        try await mqtt.publish(
                            topic: "factory/sensor/data/burst",
                            payload: ByteBuffer(string: reading(value, timestamp: millisecond)), qos: .atLeastOnce)
                    }
                    // Written with a fraction, a whole second is exact: the sensor meant it.
                    let exact = RFC3339.format(Self.base - 2_000_000_000).replacingOccurrences(of: "Z", with: ".000Z")
                    try await mqtt.publish(
                        topic: "factory/sensor/data/burst", payload: ByteBuffer(string: reading(200, timestamp: exact)),
                        qos: .atLeastOnce)
                    let letters = try await Self.deadLetters(mqtt, count: 1)
                    #expect(letters.first?.payload == reading(101, timestamp: millisecond))
                    #expect(letters.first?.reason.contains("same timestamp") == true)
                }
                #expect(try await fixture.waitForCount(12) == 12)
                let exactRows = try await fixture.influxClient.query(
                    "SELECT cycle_count FROM sensors WHERE device_id = 'burst' AND cycle_count = 200")
                #expect(exactRows.first?.series.first?.rows.first?["time"]?.int == Self.base - 2_000_000_000)
                let rows = try await fixture.influxClient.query(
                    "SELECT cycle_count FROM sensors WHERE device_id = 'burst' AND cycle_count < 100")
                let values = rows.first?.series.first?.rows.compactMap { $0["cycle_count"]?.int } ?? []
                #expect(values.sorted() == Array(0..<10))
                let times = rows.first?.series.first?.rows.compactMap { $0["time"]?.int } ?? []
                #expect(times.allSatisfy { $0 >= Self.base && $0 < Self.base + 1_000_000_000 })
                try await client.execute(uri: "/metrics", method: .get) { response in
                    let text = String(buffer: response.body)
                    #expect(metric("moby_readings_shared_timestamp_total", in: text) == 9)
                    #expect(metric("moby_readings_timestamp_collisions_total", in: text) == 1)
                }
            }
        }
    }

    /// The next `count` dead letters (fails after 20 s).
    static func deadLetters(_ mqtt: MQTTClient, count: Int) async throws -> [Letter] {
        try await withThrowingTaskGroup(of: [Letter].self) { group in
            group.addTask {
                var letters: [Letter] = []
                for await message in mqtt.messages {
                    mqtt.acknowledge(message)
                    letters.append(try JSONDecoder().decode(Letter.self, from: Data(buffer: message.payload)))
                    if letters.count == count { break }
                }
                return letters
            }
            group.addTask {
                try await Task.sleep(for: .seconds(20))
                throw CancellationError()
            }
            defer { group.cancelAll() }
            let letters = try await group.next() ?? []
            #expect(letters.count == count, "dead letters: \(letters.map(\.reason))")
            return letters
        }
    }
}
