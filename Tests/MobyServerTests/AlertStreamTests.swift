import Foundation
import Hummingbird
import HummingbirdTesting
import MQTT
import MobyCore
import MobyTestSupport
import NIOCore
import Testing

@testable import MobyServer

/// The alert path end to end with a real broker and InfluxDB: readings over MQTT, the alert on
/// the WebSocket, operator actions over HTTP, the events on MQTT and in InfluxDB.
@Suite(.serialized) struct AlertStreamTests {
    struct Detail: Decodable {
        var alert: AlertDocument
        var history: [AlertHistoryDocument]?
    }

    struct AlertList: Decodable {
        var alerts: [AlertDocument]
        var total: Int
    }

    struct ErrorBody: Decodable {
        var error: String
    }

    /// A whole second a minute before the suite first needs it; readings are 10 ms apart from it.
    static let base = (WallClock.nanoseconds() / 1_000_000_000 - 60) * 1_000_000_000

    /// Reading `index` of a device, 10 ms after the previous; normal unless `temperature` is high.
    static func reading(_ device: String, _ index: Int, temperature: Double = 25) -> String {
        let time = RFC3339.format(base + Int64(index) * 10_000_000)
        return #"{"device_id":"\#(device)","temperature":\#(temperature),"humidity":45,"vibration":2.0,"#
            + #""sound":65,"accel":{"x":0,"y":0,"z":9.81},"gyro":{"x":0,"y":0,"z":0},"cycle_count":\#(index),"#
            + #""timestamp":"\#(time)"}"#
    }

    /// Publishes `normal` healthy readings then `anomalous` ones at 80 °C (past critical).
    static func publishEpisode(
        _ publisher: MQTTClient, device: String, normal: Int, anomalous: Int, from start: Int = 0
    )
        async throws
    {
        for index in start..<(start + normal + anomalous) {
            let hot = index >= start + normal
            try await publisher.publish(
                topic: "factory/sensor/data/\(device)",
                payload: ByteBuffer(string: reading(device, index, temperature: hot ? 80 : 25)), qos: .atLeastOnce)
        }
    }

    func post(_ client: some TestClientProtocol, _ uri: String, _ body: String) async throws -> (
        HTTPResponse.Status, Data
    ) {
        try await client.execute(
            uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)
        ) { ($0.status, Data($0.body.readableBytesView)) }
    }

    func get(_ client: some TestClientProtocol, _ uri: String) async throws -> (HTTPResponse.Status, Data) {
        try await client.execute(uri: uri, method: .get) { ($0.status, Data($0.body.readableBytesView)) }
    }

    @Test func anomalyRaisesAnAlertOnTheStreamAndOperatorsAcknowledgeAndResolveIt() async throws {
        try await PipelineFixture.with { fixture in
            let configuration = try fixture.configuration(["moby.alert.raise.after": "3"])
            let app = try await buildApplication(configuration: configuration, logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                let port = try #require(client.port)
                try await withMQTTClient(url: fixture.broker.url) { mqtt in
                    _ = try await mqtt.subscribe([("factory/alerts/#", .atLeastOnce)])
                    try await withAlertStream(port: port) { stream in
                        let snapshot = try await stream.first { $0.type == "snapshot" }
                        #expect(snapshot.alerts == [] && snapshot.seq == 0)

                        try await Self.publishEpisode(mqtt, device: "press-1", normal: 20, anomalous: 5)
                        let raised = try await stream.first { $0.type == "alert.raised" }
                        let alert = try #require(raised.alert)
                        #expect(alert.deviceID == "press-1" && alert.severity == .critical && alert.status == .pending)
                        #expect(alert.contributors.first?.metric == "temperature")
                        #expect(alert.summary.contains("temperature 80 °C"))
                        #expect(stream.events.filter { $0.type == "alert.raised" }.count == 1)

                        let (ackStatus, ackBody) = try await post(
                            client, "/api/v1/alerts/\(alert.id)/acknowledge", #"{"actor":"alice","note":"on it"}"#)
                        #expect(ackStatus == .ok)
                        // Authentication is off in this fixture: the actor is "anonymous", never
                        // the body's "actor" (AccessTests: the credential's name).
                        #expect(
                            try JSONDecoder().decode(Detail.self, from: ackBody).alert.acknowledgedBy == "anonymous")
                        let acknowledged = try await stream.first { $0.type == "alert.acknowledged" }
                        #expect(acknowledged.alert?.id == alert.id && acknowledged.seq > raised.seq)

                        let (again, againBody) = try await post(client, "/api/v1/alerts/\(alert.id)/acknowledge", "")
                        #expect(again == .conflict)
                        #expect(
                            try JSONDecoder().decode(ErrorBody.self, from: againBody).error.contains("acknowledged"))

                        let (resolveStatus, _) = try await post(
                            client, "/api/v1/alerts/\(alert.id)/resolve", #"{"actor":"bob","note":"fan replaced"}"#)
                        #expect(resolveStatus == .ok)
                        let resolved = try await stream.first { $0.type == "alert.resolved" }
                        #expect(resolved.alert?.resolvedBy == "anonymous" && resolved.seq > acknowledged.seq)
                        let sequences = stream.events.map(\.seq)
                        #expect(sequences == Array(sequences.sorted()) && Set(sequences).count == sequences.count)
                    }

                    // The same events went to MQTT factory/alerts/press-1.
                    let types = try await withThrowingTaskGroup(of: [String].self) { group in
                        group.addTask {
                            var types: [String] = []
                            for await message in mqtt.messages {
                                #expect(message.topic == "factory/alerts/press-1")
                                let event = try JSONDecoder().decode(
                                    StreamMessage.self, from: Data(message.payload.readableBytesView))
                                types.append(event.type)
                                if event.type == "alert.resolved" { break }
                            }
                            return types
                        }
                        group.addTask {
                            try await Task.sleep(for: .seconds(20))
                            return ["timed out"]
                        }
                        defer { group.cancelAll() }
                        return try await group.next() ?? []
                    }
                    #expect(types.first == "alert.raised" && types.last == "alert.resolved")
                    #expect(types.contains("alert.acknowledged"))
                }

                let (status, body) = try await get(client, "/api/v1/alerts?status=resolved&device=press-1")
                #expect(status == .ok)
                let list = try JSONDecoder().decode(AlertList.self, from: body)
                #expect(list.total == 1)
                let id = try #require(list.alerts.first?.id)
                let detail = try JSONDecoder().decode(
                    Detail.self, from: try await get(client, "/api/v1/alerts/\(id)").1)
                #expect(detail.history?.map(\.action).prefix(1) == ["raised"])
                #expect(detail.history?.suffix(2).map(\.action) == ["acknowledged", "resolved"])
                #expect(detail.history?.last?.note == "fan replaced")
                #expect(try await get(client, "/api/v1/alerts/99999").0 == .notFound)
                #expect(try await get(client, "/api/v1/alerts?status=open&limit=0").0 == .badRequest)

                // The device overview and the chart series.
                struct Devices: Decodable {
                    struct Device: Decodable {
                        var deviceID: String
                        var status: String
                        var values: [String: Double]
                        var readings: Int

                        enum CodingKeys: String, CodingKey {
                            case status, values, readings
                            case deviceID = "device_id"
                        }
                    }
                    var devices: [Device]
                }
                let devices = try JSONDecoder().decode(Devices.self, from: try await get(client, "/api/v1/devices").1)
                let press = try #require(devices.devices.first { $0.deviceID == "press-1" })
                #expect(press.status == "online" && press.readings == 25 && press.values["temperature"] == 80)
                struct Series: Decodable {
                    var columns: [String]
                    var values: [[Double?]]
                    var times: [String]
                }
                let from = RFC3339.format(Self.base)
                let to = RFC3339.format(Self.base + 10 * 1_000_000_000)
                let (seriesStatus, seriesBody) = try await get(
                    client,
                    "/api/v1/readings?device=press-1&metric=temperature,anomaly_score&from=\(from)&to=\(to)&points=10")
                #expect(seriesStatus == .ok)
                let series = try JSONDecoder().decode(Series.self, from: seriesBody)
                #expect(series.columns == ["temperature", "anomaly_score"])
                // 25 readings 10 ms apart from a whole second, averaged into 1 s buckets: one row.
                #expect(series.values.count == 1)
                let mean = try #require(series.values.first?.first ?? nil)
                #expect(abs(mean - 36) < 1e-9)  // (20 × 25 °C + 5 × 80 °C) / 25
                #expect(series.values.count == series.times.count && !series.values.isEmpty)
                #expect(try await get(client, "/api/v1/readings?metric=pressure").0 == .badRequest)

                // Readings carry their anomaly score; alert events are in measurement `alerts`.
                #expect(try await fixture.waitForCount(25, field: "anomaly_score") == 25)
                let hot = try await fixture.influxClient.query(
                    "SELECT min(anomaly_score) FROM sensors WHERE temperature > 70")
                #expect((hot.first?.series.first?.values.first?.last?.double ?? 0) >= 5)
                var stored: Int64 = 0
                let deadline = ContinuousClock.now + .seconds(20)
                while stored < 3, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    let events = try? await fixture.influxClient.query(
                        "SELECT count(alert_id) FROM alerts WHERE device_id = 'press-1' AND event != 'alert.updated'")
                    stored = events?.first?.series.first?.values.first?.last?.int ?? 0
                }
                #expect(stored == 3)
            }
        }
    }

    @Test func aReconnectingClientGetsExactlyWhatItMissed() async throws {
        try await PipelineFixture.with { fixture in
            // No coalesced updates (they are stored every interval): the events are exactly the
            // raises and the acknowledgement, however slowly the test runs.
            let configuration = try fixture.configuration([
                "moby.alert.raise.after": "2", "moby.alert.update.ms": "3600000",
            ])
            let app = try await buildApplication(configuration: configuration, logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                let port = try #require(client.port)
                // Connected while the first alert is raised.
                let (seen, firstID) = try await withAlertStream(port: port) { stream in
                    // The snapshot first: publishing before the connection is up would put the
                    // alert into the snapshot instead of sending it as an event.
                    _ = try await stream.first { $0.type == "snapshot" }
                    try await withMQTTClient(url: fixture.broker.url) { mqtt in
                        try await Self.publishEpisode(mqtt, device: "lathe-1", normal: 5, anomalous: 3)
                    }
                    let raised = try await stream.first { $0.type == "alert.raised" }
                    return (raised.seq, try #require(raised.alert?.id))
                }
                // Disconnected: another device alerts, and the first alert is acknowledged.
                try await withMQTTClient(url: fixture.broker.url) { mqtt in
                    try await Self.publishEpisode(mqtt, device: "lathe-2", normal: 5, anomalous: 3)
                }
                #expect(try await post(client, "/api/v1/alerts/\(firstID)/acknowledge", "").0 == .ok)
                var expected: [Int64] = []
                let deadline = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < deadline {
                    let all = try await AlertCenterTestAccess.events(fixture: fixture, configuration: configuration)
                    expected = all.filter { $0 > seen }
                    if expected.count >= 2 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(expected.count >= 2)

                // Reconnecting with the last sequence: the missed events, in order, and no snapshot.
                try await withAlertStream(port: port, query: "?since=\(seen)") { stream in
                    _ = try await stream.first { $0.seq == expected.last! && $0.type.hasPrefix("alert.") }
                    #expect(stream.messages.allSatisfy { $0.type != "snapshot" })
                    #expect(stream.events.map(\.seq) == expected)
                    #expect(stream.events.contains { $0.type == "alert.raised" && $0.alert?.deviceID == "lathe-2" })
                    #expect(stream.events.contains { $0.type == "alert.acknowledged" && $0.alert?.id == firstID })
                }
                // Nothing missed: a heartbeat at once says the stream is up and caught up (the
                // periodic one comes only after 15 s here).
                try await withAlertStream(port: port, query: "?since=\(expected.last!)") { stream in
                    let first = try await stream.first(timeout: .seconds(10)) { _ in true }
                    #expect(first.type == "heartbeat" && first.seq == expected.last!)
                }
                // A sequence the server never issued: a fresh snapshot, with the reason.
                try await withAlertStream(port: port, query: "?since=999999") { stream in
                    let snapshot = try await stream.first { $0.type == "snapshot" }
                    #expect(snapshot.reason?.contains("999999") == true)
                    #expect(Set(snapshot.alerts?.map(\.deviceID) ?? []) == ["lathe-1", "lathe-2"])
                }
            }
        }
    }
}

extension AlertStreamTests {
    @Test func idleStreamSendsHeartbeatsWithTheLastSequence() async throws {
        try await PipelineFixture.with { fixture in
            let configuration = try fixture.configuration([
                "moby.ws.heartbeat.seconds": "1", "moby.ws.max.clients": "1",
            ])
            let app = try await buildApplication(configuration: configuration, logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                try await withAlertStream(port: try #require(client.port)) { stream in
                    let snapshot = try await stream.first { $0.type == "snapshot" }
                    let heartbeat = try await stream.first(timeout: .seconds(10)) { $0.type == "heartbeat" }
                    #expect(heartbeat.seq == snapshot.seq && heartbeat.at != nil)
                    // One stream is the maximum here: the next is turned away until it closes
                    // (a WebSocket client sees the library's 307 and a closed connection; a
                    // plain request the reason).
                    let port = try #require(client.port)
                    await #expect(throws: (any Error).self) { try await withAlertStream(port: port) { _ in } }
                    let full = try await client.execute(uri: "/ws", method: .get) { $0 }
                    #expect(full.status == .serviceUnavailable && full.headers[.retryAfter] == "10", "\(full.status)")
                }
                try await eventually("the stream's place to be free") {
                    try await client.execute(uri: "/ws", method: .get) { $0.status } == .upgradeRequired
                }
                let plain = try await client.execute(uri: "/ws", method: .get) { $0 }
                #expect(plain.headers[.upgrade] == "websocket")
                let badSince = try await client.execute(uri: "/ws?since=abc", method: .get) { $0 }
                #expect(badSince.status == .badRequest)
                // A malformed `since` is refused instead of upgraded.
                let port = try #require(client.port)
                await #expect(throws: (any Error).self) {
                    try await withAlertStream(port: port, query: "?since=minus-one") { _ in }
                }
            }
        }
    }
}

/// Reads the server's event log directly (the same SQLite file), to know what a client missed.
enum AlertCenterTestAccess {
    static func events(fixture: PipelineFixture, configuration: ServerConfiguration) async throws -> [Int64] {
        let store = try SQLiteAlertStore(path: configuration.alertDatabasePath)
        return try await store.events(after: 0, limit: 100_000)?.map(\.sequence) ?? []
    }
}
