import Foundation
import Hummingbird
import HummingbirdTesting
import MobyCore
import MobyTestSupport
import Testing

@testable import MobyServer

/// `PUT /api/v1/devices/{id}`, the registry fields and filters of the device list, and the
/// catalog's profiles, in-process.
@Suite struct DeviceRegistryRouterTests {
    @Test func putRegistersChangesAndExplainsEveryRefusal() async throws {
        let harness = try await RouterHarness()
        try await harness.test { client in
            let body =
                #"{"name":"Cold room 1","location":"plant-a","line":"line-2","profile":"cold_room","labels":{"cell":"c3"}}"#
            let created = try await client.answer("/api/v1/devices/room-1", .put, json: body)
            #expect(created.status == .created, "\(created.text)")
            #expect(
                created.json["profile"] as? String == "cold_room" && created.json["name"] as? String == "Cold room 1")
            #expect(created.json["labels"] as? [String: String] == ["cell": "c3"])
            #expect(created.json["status"] as? String == "stale")  // registered, never heard from
            let again = try await client.answer(
                "/api/v1/devices/room-1", .put, json: #"{"location":"plant-b","profile":"cold_room"}"#)
            #expect(again.status == .ok)
            #expect(again.json["location"] as? String == "plant-b" && again.json["name"] == nil)  // the whole entry

            let refusals: [(String, [String])] = [
                (#"{"profile":"freezer"}"#, ["profile"]),
                (#"{"location":"plant a"}"#, ["location"]),
                (#"{"line":5}"#, ["line"]),
                (#"{"labels":{"colour":"red"}}"#, ["labels.colour"]),
                (#"{"labels":{"cell":"a,b"}}"#, ["labels.cell"]),
                (#"{"name":"a\u0007b"}"#, ["name"]),
                (#"{"owner":"me"}"#, ["owner"]),
                (#"{"profile":"nowhere","location":"x y"}"#, ["profile", "location"]),
            ]
            for (json, fields) in refusals {
                let answer = try await client.answer("/api/v1/devices/room-1", .put, json: json)
                #expect(answer.status == .unprocessableContent, "\(json): \(answer.text)")
                #expect(Set(answer.fieldsInError) == Set(fields), "\(json): \(answer.text)")
            }
            #expect(try await client.answer("/api/v1/devices/room-1", .put, json: "{").status == .badRequest)
            #expect(try await client.answer("/api/v1/devices/room-1", .put, json: "[]").status == .badRequest)
            #expect(try await client.answer("/api/v1/devices/a%2Fb", .put, json: "{}").status == .badRequest)
            let unchanged = try await client.answer("/api/v1/devices/room-1")
            #expect(
                unchanged.json["location"] as? String == "plant-b"
                    && unchanged.json["profile"] as? String == "cold_room")
        }
    }

    @Test func theListFiltersByLocationLineAndProfile() async throws {
        let harness = try await RouterHarness()
        try await harness.test { client in
            for (id, body) in [
                ("p1", #"{"location":"plant-a","line":"l1","profile":"press"}"#),
                ("p2", #"{"location":"plant-a","line":"l2","profile":"press"}"#),
                ("c1", #"{"location":"plant-b","line":"l1","profile":"cold_room"}"#),
            ] {
                let status = try await client.answer("/api/v1/devices/\(id)", .put, json: body).status
                #expect(status == .created)
            }
            func ids(_ query: String) async throws -> [String] {
                let answer = try await client.answer("/api/v1/devices?\(query)")
                return (answer.json["devices"] as? [[String: Any]] ?? []).compactMap { $0["device_id"] as? String }
            }
            let cases: [(String, [String])] = [
                ("location=plant-a", ["p1", "p2"]), ("line=l1", ["c1", "p1"]), ("profile=cold_room", ["c1"]),
                ("location=plant-a&line=l2", ["p2"]), ("location=plant-c", []),
                ("location=plant-a&limit=1&offset=1", ["p2"]),
            ]
            for (query, expected) in cases {
                let found = try await ids(query)
                #expect(found == expected, "\(query)")
            }
        }
    }

    @Test func theCatalogListsEveryProfileResolved() async throws {
        let harness = try await RouterHarness()
        try await harness.test { client in
            let catalog = try await client.answer("/api/v1/catalog").json
            let profiles = try #require(catalog["profiles"] as? [String: [String: Any]])
            #expect(Set(profiles.keys) == ["default", "cold_room", "press"])
            let cold = try #require(profiles["cold_room"]?["metrics"] as? [[String: Any]])
            let temperature = try #require(cold.first { $0["metric"] as? String == "temperature" })
            #expect((temperature["critical"] as? [String: Double])?["high"] == 12)
            #expect(catalog["device_labels"] as? [String] == ["cell", "vendor"])
            #expect((catalog["metrics"] as? [Any])?.count == Metric.allCases.count)  // the default, as before
        }
    }
}
