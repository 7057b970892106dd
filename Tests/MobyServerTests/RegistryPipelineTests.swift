import Foundation
import Hummingbird
import HummingbirdTesting
import Influx
import MobyCore
import MobyTestSupport
import NIOCore
import Testing

@testable import MobyServer

/// The device registry and profiles through the real pipeline (Mosquitto, ingest, InfluxDB):
/// tags on stored points, an alert by a profile's limits, and the registry after a restart.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RegistryPipelineTests {
    struct Answer {
        var status: HTTPResponse.Status
        var json: [String: Any]
    }

    static func send(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil
    ) async throws -> Answer {
        try await client.execute(
            uri: uri, method: method, headers: body == nil ? [:] : [.contentType: "application/json"],
            body: body.map { ByteBuffer(string: $0) }
        ) { response in
            let json =
                (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any]
            return Answer(status: response.status, json: json ?? [:])
        }
    }

    static func publish(_ client: some TestClientProtocol, _ reading: String) async throws {
        let answer = try await send(client, .post, "/publish", reading)
        #expect(answer.status == .accepted, "\(reading): \(answer.json)")
    }

    /// The tags of device's points, oldest first.
    static func tags(_ fixture: PipelineFixture, device: String) async throws -> [[String: String]] {
        let result = try await fixture.influxClient.query(
            "SELECT temperature, location, line, profile FROM sensors WHERE device_id = '\(device)'")
        return (result.first?.series.first?.rows ?? []).map { row in
            var tags: [String: String] = [:]
            for key in ["location", "line", "profile"] { if let value = row[key]?.string { tags[key] = value } }
            return tags
        }
    }

    @Test func aReadingsLocationAndTheRegistryAreOnEveryNewPoint() async throws {
        try await PipelineFixture.with { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                try await Self.publish(client, #"{"device_id":"press-7","temperature":25,"location":"plant-a"}"#)
                _ = try await fixture.waitForCount(1)
                #expect(
                    try await Self.tags(fixture, device: "press-7") == [["location": "plant-a", "profile": "default"]])
                let device = try await Self.send(client, .get, "/api/v1/devices/press-7")
                #expect(device.json["location"] as? String == "plant-a")

                let moved = try await Self.send(
                    client, .put, "/api/v1/devices/press-7",
                    #"{"location":"plant-b","line":"line-2","profile":"press"}"#)
                #expect(moved.status == .ok)
                try await Self.publish(client, #"{"device_id":"press-7","temperature":26}"#)
                _ = try await fixture.waitForCount(2)
                // The change applies to new points only.
                #expect(
                    try await Self.tags(fixture, device: "press-7") == [
                        ["location": "plant-a", "profile": "default"],
                        ["location": "plant-b", "line": "line-2", "profile": "press"],
                    ])

                let bad = try await Self.send(
                    client, .post, "/publish", #"{"device_id":"press-7","temperature":26,"location":"plant a"}"#)
                #expect(bad.status == .unprocessableContent)
                let fields = (bad.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
                #expect(fields == ["location"])
            }
        }
    }

    @Test func aDeviceMovedToAColdRoomProfileAlertsAtWhatTheDefaultAccepts() async throws {
        try await PipelineFixture.with { fixture in
            let configuration = try fixture.configuration([
                "moby.alert.raise.after": "2", "moby.alert.clear.after": "2",
            ])
            let app = try await buildApplication(configuration: configuration, logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                for _ in 0..<3 { try await Self.publish(client, #"{"device_id":"room-1","temperature":20}"#) }
                _ = try await fixture.waitForCount(3)
                #expect(try await Self.send(client, .get, "/api/v1/alerts?device=room-1").json["total"] as? Int == 0)

                #expect(
                    try await Self.send(client, .put, "/api/v1/devices/room-1", #"{"profile":"cold_room"}"#).status
                        == .ok)
                for _ in 0..<2 { try await Self.publish(client, #"{"device_id":"room-1","temperature":20}"#) }
                let alert = try await eventuallyValue("an alert on room-1") { () async throws -> [String: Any]? in
                    let list = try await Self.send(client, .get, "/api/v1/alerts?device=room-1")
                    return (list.json["alerts"] as? [[String: Any]])?.first
                }
                #expect(alert["profile"] as? String == "cold_room")
                #expect(alert["severity"] as? String == "critical")  // 20 °C is past the cold room's 12
                #expect((alert["summary"] as? String)?.contains("room-1 (profile cold_room)") == true, "\(alert)")

                // 5 °C is normal for a cold room: the condition clears, nothing new is raised.
                for _ in 0..<3 { try await Self.publish(client, #"{"device_id":"room-1","temperature":5}"#) }
                let cleared = try await eventuallyValue("the alert's condition to clear") {
                    () async throws -> [String: Any]? in
                    let list = try await Self.send(client, .get, "/api/v1/alerts?device=room-1")
                    let first = (list.json["alerts"] as? [[String: Any]])?.first
                    return first?["cleared_at"] is String ? first : nil
                }
                #expect(cleared["id"] as? Int == alert["id"] as? Int)
                #expect(try await Self.send(client, .get, "/api/v1/alerts?device=room-1").json["total"] as? Int == 1)
            }
        }
    }

    @Test func theRegistrySurvivesARestart() async throws {
        try await PipelineFixture.with { fixture in
            let configuration = try fixture.configuration(["moby.alert.raise.after": "1"])
            // The first server is gone before the second opens its data folder (its spool is locked).
            do {
                let first = try await buildApplication(configuration: configuration, logger: testLogger())
                try await first.test(.live) { client in
                    try await waitUntilReady(client)
                    let put = try await Self.send(
                        client, .put, "/api/v1/devices/room-1",
                        #"{"name":"Cold room 1","location":"plant-a","profile":"cold_room","labels":{"cell":"c3"}}"#)
                    #expect(put.status == .created)
                    // Registered by its first reading (stored by the registry's background flush or
                    // at shutdown).
                    try await Self.publish(
                        client, #"{"device_id":"press-9","vibration":2,"location":"plant-b","line":"l4"}"#)
                    _ = try await fixture.waitForCount(1, field: "vibration")
                }
            }
            let second = try await buildApplication(configuration: configuration, logger: testLogger())
            try await second.test(.live) { client in
                try await waitUntilReady(client)
                let room = try await Self.send(client, .get, "/api/v1/devices/room-1")
                #expect(room.json["profile"] as? String == "cold_room" && room.json["name"] as? String == "Cold room 1")
                #expect(room.json["location"] as? String == "plant-a")
                #expect(room.json["labels"] as? [String: String] == ["cell": "c3"])
                let press = try await Self.send(client, .get, "/api/v1/devices/press-9")
                #expect(press.status == .ok)
                #expect(press.json["location"] as? String == "plant-b" && press.json["line"] as? String == "l4")
                #expect(press.json["status"] as? String == "stale" || press.json["status"] as? String == "online")
                // The profile still judges: 20 °C raises at once in a cold room.
                try await Self.publish(client, #"{"device_id":"room-1","temperature":20}"#)
                let alert = try await eventuallyValue("an alert on room-1") { () async throws -> [String: Any]? in
                    let list = try await Self.send(client, .get, "/api/v1/alerts?device=room-1")
                    return (list.json["alerts"] as? [[String: Any]])?.first
                }
                #expect(alert["profile"] as? String == "cold_room")
                _ = try await fixture.waitForCount(1, field: "temperature")
                #expect(
                    try await Self.tags(fixture, device: "room-1").last == [
                        "location": "plant-a", "profile": "cold_room",
                    ])
            }
        }
    }
}
