import Foundation
import Hummingbird
import HummingbirdTesting
import MobyCore
import MobyTestSupport
import Testing

@testable import MobyServer

/// Every endpoint's answers that need no broker or InfluxDB, in-process (`app.test(.router)`).
@Suite struct RouterTests {
    @Test func healthAndMetrics() async throws {
        let harness = try await RouterHarness()
        try await harness.test { client in
            let live = try await client.answer("/health")
            #expect(live.status == .ok && live.json["status"] as? String == "ok")
            let ready = try await client.answer("/health/ready")
            #expect(ready.status == .serviceUnavailable, "nothing is connected")
            #expect(ready.json["status"] as? String == "degraded")
            let broker = ready.json["mqtt"] as? [String: Any]
            #expect(broker?["connected"] as? Bool == false && broker?["subscribed"] as? Bool == false)
            #expect((ready.json["influxdb"] as? [String: Any])?["reachable"] as? Bool == false)
            let metrics = try await client.answer("/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(metric("moby_devices_limit", in: metrics.text) == 50_000)
            // Sampled at the scrape: nothing reachable here; the process's own numbers.
            #expect(metric("moby_influx_reachable", in: metrics.text) == 0)
            #expect(metric("moby_mqtt_subscribed", in: metrics.text) == 0)
            #expect((metric("process_resident_memory_bytes", in: metrics.text) ?? 0) > 1_000_000)
            #expect((metric("process_cpu_seconds_total", in: metrics.text) ?? 0) > 0)
            #expect((metric("process_open_fds", in: metrics.text) ?? 0) >= 3)
            let started = metric("process_start_time_seconds", in: metrics.text) ?? 0
            #expect(abs(started - Date().timeIntervalSince1970) < 86_400 * 7, "started \(started)")
            #expect(try await client.answer("/nowhere").status == .notFound)
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405WithWhatItTakes() async throws {
        let harness = try await RouterHarness()
        try await harness.test { client in
            let post = try await client.answer("/health", .post, json: "{}")
            #expect(post.status == .methodNotAllowed, "\(post.text)")
            #expect(post.headers[.allow] == "GET")
            #expect(post.json["error"] as? String == "POST is not allowed on /health; it takes GET")
            // A path with a parameter: the route's pattern matches it.
            let delete = try await client.answer("/api/v1/alerts/7/acknowledge", .delete)
            #expect(delete.status == .methodNotAllowed && delete.headers[.allow] == "POST", "\(delete.text)")
            let put = try await client.answer("/api/v1/devices", .put, json: "{}")
            #expect(put.status == .methodNotAllowed && put.headers[.allow]?.contains("GET") == true, "\(put.text)")
            // A hostile path (long, control characters) still gets a short, well-formed refusal.
            let hostile = "/api/v1/alerts/" + String(repeating: "x%0A%00", count: 2_000) + "/acknowledge"
            let long = try await client.answer(hostile, .delete)
            #expect(long.status == .methodNotAllowed && long.headers[.allow] == "POST")
            #expect((long.json["error"] as? String).map { $0.count < 400 } == true, "\(long.text.prefix(200))")
            // HEAD where GET works is not a wrong method.
            #expect(try await client.answer("/health", .head).status != .methodNotAllowed)
            // Unknown paths stay 404, and a route's own 404 (no such alert) is not turned into 405.
            #expect(try await client.answer("/api/v1/nowhere", .post, json: "{}").status == .notFound)
            #expect(try await client.answer("/api/v1/alerts/7/acknowledge/more", .post).status == .notFound)
            #expect(try await client.answer("/api/v1/alerts/999999").status == .notFound)
        }
    }

    @Test func publishAnswersEveryRefusalWithItsReason() async throws {
        let harness = try await RouterHarness()
        try await harness.test { client in
            let reading = #"{"device_id":"press-1","temperature":21.5}"#
            let noType = try await client.answer(
                "/publish", .post, json: reading, headers: [.contentType: "text/plain"])
            #expect(noType.status == .unsupportedMediaType && noType.text.contains(#"'text\/plain'"#))
            let unknown = try await client.answer("/publish", .post, json: #"{"device_id":"press-1","colour":1}"#)
            #expect(unknown.status == .unprocessableContent && unknown.fieldsInError == ["colour"])
            let outOfRange = try await client.answer(
                "/publish", .post, json: #"{"device_id":"press-1","temperature":9000}"#)
            #expect(outOfRange.status == .unprocessableContent && outOfRange.fieldsInError == ["temperature"])
            let badID = try await client.answer("/publish", .post, json: #"{"device_id":"a/b","temperature":1}"#)
            #expect(badID.status == .unprocessableContent && badID.fieldsInError == ["device_id"])
            let notJSON = try await client.answer("/publish", .post, json: "{")
            #expect(notJSON.status == .unprocessableContent && notJSON.fieldsInError == ["payload"])
            // Thousands of unknown keys: twenty explained, the rest counted (the answer stays small).
            let keys = (0..<5_000).map { #""k\#($0)":0"# }.joined(separator: ",")
            let many = try await client.answer("/publish", .post, json: #"{"device_id":"press-1","# + keys + "}")
            #expect(many.status == .unprocessableContent)
            #expect(many.fieldsInError == (0..<20).map { "k\($0)" } + ["payload"], "\(many.text.prefix(300))")
            #expect(many.text.contains("4980 more problems not listed") && many.text.utf8.count < 64 * 1024)
            let huge = try await client.answer(
                "/publish", .post,
                json: #"{"device_id":"press-1","x":""# + String(repeating: "a", count: 300_000) + "\"}")
            #expect(huge.status == .contentTooLarge)
            // Valid, but the broker is not connected: 503 with the reason, nothing claimed.
            let noBroker = try await client.answer("/publish", .post, json: reading)
            #expect(noBroker.status == .serviceUnavailable && noBroker.text.contains("MQTT broker"))
        }
    }

    @Test func publishRefusesNewDevicesPastTheLimit() async throws {
        let harness = try await RouterHarness(["moby.max.devices": "1"])
        #expect(harness.parts.fleet.admits("press-1"))
        let reading = Reading(deviceID: "press-1", timestamp: 1, values: [MetricValue(.temperature, 20)])
        _ = harness.parts.fleet.observe([.init(reading: reading, score: 0, severity: nil)], receivedAt: 1)
        #expect(!harness.parts.fleet.admits("press-2"))
        try await harness.test { client in
            let refused = try await client.answer("/publish", .post, json: #"{"device_id":"press-2","temperature":1}"#)
            #expect(refused.status == .unprocessableContent && refused.text.contains("limit"), "\(refused.text)")
        }
    }

    @Test func alertListDetailAndFilters() async throws {
        let harness = try await RouterHarness()
        let id = try await harness.raiseAlert(device: "press-7")
        try await harness.test { client in
            let list = try await client.answer("/api/v1/alerts?status=pending&device=press-7")
            #expect(list.status == .ok && list.json["total"] as? Int == 1)
            let none = try await client.answer("/api/v1/alerts?status=resolved")
            #expect(none.status == .ok && none.json["total"] as? Int == 0)
            let badStatus = try await client.answer("/api/v1/alerts?status=done&limit=0")
            #expect(badStatus.status == .badRequest && Set(badStatus.fieldsInError) == ["status", "limit"])
            let detail = try await client.answer("/api/v1/alerts/\(id)")
            #expect(detail.status == .ok)
            #expect((detail.json["alert"] as? [String: Any])?["device_id"] as? String == "press-7")
            #expect((detail.json["history"] as? [Any])?.count == 1, "the raise is its first history entry")
            #expect(try await client.answer("/api/v1/alerts/\(id + 100)").status == .notFound)
            #expect(try await client.answer("/api/v1/alerts/abc").status == .badRequest)
            #expect(try await client.answer("/api/v1/alerts/0").status == .badRequest)
        }
    }

    /// A flapping device (its condition clearing and coming back, auto-resolve off) adds two
    /// history entries a cycle to one alert: its detail holds the latest ones and the count.
    @Test func aFlappingAlertsDetailHoldsItsLatestHistoryAndTheCount() async throws {
        let harness = try await RouterHarness()
        let id = try await harness.raiseAlert(device: "press-7")
        for _ in 0..<110 {
            await harness.parts.center.handle(harness.signal(.cleared, device: "press-7", temperature: 20))
            await harness.parts.center.handle(harness.signal(.raised(.critical), device: "press-7"))
        }
        try await harness.test { client in
            let detail = try await client.answer("/api/v1/alerts/\(id)")
            #expect(detail.status == .ok)
            #expect(detail.json["history_total"] as? Int == 221)
            let history = try #require(detail.json["history"] as? [[String: Any]])
            #expect(history.count == 200)
            #expect(history.first?["action"] as? String == "cleared", "the oldest 21 (the raise first) are left out")
            #expect(history.last?["action"] as? String == "reopened", "the latest comes last")
            let few = try await client.answer("/api/v1/alerts/\(id)?history=3")
            #expect(
                (few.json["history"] as? [[String: Any]])?.map { $0["action"] as? String } == [
                    "reopened", "cleared", "reopened",
                ])
            for hostile in ["0", "-1", "10001", "99999999999999999999", "abc", "1e3", "%00", "3%0A"] {
                let refused = try await client.answer("/api/v1/alerts/\(id)?history=\(hostile)")
                #expect(
                    refused.status == .badRequest && refused.fieldsInError == ["history"],
                    "\(hostile): \(refused.status)")
            }
            // An empty value is no value: the default.
            let empty = try await client.answer("/api/v1/alerts/\(id)?history=")
            #expect((empty.json["history"] as? [Any])?.count == 200)
        }
    }

    @Test func lifecycleThroughTheAPIWithConflictsAndBadBodies() async throws {
        let harness = try await RouterHarness()
        let id = try await harness.raiseAlert(device: "press-8")
        try await harness.test { client in
            let base = "/api/v1/alerts/\(id)"
            let badBody = try await client.answer(base + "/acknowledge", .post, json: "[1,2]")
            #expect(badBody.status == .badRequest && badBody.text.contains("must be JSON"))
            let longNote = try await client.answer(
                base + "/acknowledge", .post, json: #"{"note":""# + String(repeating: "n", count: 5_000) + "\"}")
            #expect(longNote.status == .badRequest && longNote.fieldsInError == ["note"])
            let tooLarge = try await client.answer(
                base + "/acknowledge", .post, json: #"{"note":""# + String(repeating: "n", count: 20_000) + "\"}")
            #expect(tooLarge.status == .contentTooLarge)
            #expect(try await client.answer("/api/v1/alerts/999/acknowledge", .post).status == .notFound)

            let acknowledged = try await client.answer(
                base + "/acknowledge", .post, json: #"{"actor":"mina","note":"on it"}"#)
            #expect(acknowledged.status == .ok)
            #expect((acknowledged.json["alert"] as? [String: Any])?["status"] as? String == "acknowledged")
            let again = try await client.answer(base + "/acknowledge", .post)
            #expect(again.status == .conflict && again.text.contains("acknowledged"), "\(again.text)")
            #expect(try await client.answer(base + "/resolve", .post, json: #"{"note":"bearing"}"#).status == .ok)
            let twice = try await client.answer(base + "/resolve", .post)
            #expect(twice.status == .conflict && twice.text.contains("resolved"), "\(twice.text)")

            let history = (try await client.answer(base).json["history"] as? [[String: Any]]) ?? []
            // Authentication is off here: everyone is "anonymous", and the body's actor is ignored
            // (AccessTests checks that the actor is the credential's name).
            #expect(history.compactMap { $0["actor"] as? String }.suffix(2) == ["anonymous", "anonymous"])
            #expect(history.compactMap { $0["note"] as? String } == ["on it", "bearing"])
        }
    }

    @Test func oneDeviceWithItsValuesAndOpenAlert() async throws {
        let harness = try await RouterHarness()
        let reading = Reading(
            deviceID: "프레스-1", timestamp: WallClock.nanoseconds(), values: [MetricValue(.temperature, 71.5)])
        _ = harness.parts.fleet.observe(
            [.init(reading: reading, score: 5.8, severity: .critical)], receivedAt: WallClock.nanoseconds())
        let id = try await harness.raiseAlert(device: "프레스-1")
        try await harness.test { client in
            let device = try await client.answer("/api/v1/devices/%ED%94%84%EB%A0%88%EC%8A%A4-1")
            #expect(device.status == .ok, "\(device.text)")
            #expect(device.json["device_id"] as? String == "프레스-1" && device.json["status"] as? String == "online")
            #expect((device.json["values"] as? [String: Any])?["temperature"] as? Double == 71.5)
            #expect((device.json["alert"] as? [String: Any])?["id"] as? Int64 == id)
            let filtered = try await client.answer("/api/v1/devices?id=%ED%94%84%EB%A0%88%EC%8A%A4-1")
            #expect((filtered.json["devices"] as? [[String: Any]])?.first?["device_id"] as? String == "프레스-1")
            let unknown = try await client.answer("/api/v1/devices?id=nobody")
            #expect(unknown.status == .ok && unknown.json["total"] as? Int == 0)
        }
    }

    @Test func aDeviceKnownOnlyFromAnOpenAlertIsLastSeenWhenTheAlertSawIt() async throws {
        let harness = try await RouterHarness()
        _ = try await harness.raiseAlert(device: "press-9")
        let alert = try #require(await harness.parts.center.openAlerts().first)
        // After a restart the fleet is rebuilt from the open alerts alone.
        let fleet = FleetState(rules: Hysteresis())
        fleet.resume([alert])
        let device = try #require(fleet.device("press-9"))
        #expect(device.receivedAt == alert.lastSeenAt && device.episode.isOpen)
    }

    @Test func devicesCatalogAndReadings() async throws {
        let harness = try await RouterHarness()
        try await harness.test { client in
            let devices = try await client.answer("/api/v1/devices")
            #expect(devices.status == .ok && devices.json["total"] as? Int == 0)
            #expect(devices.json["stale_after_seconds"] as? Int == 30)
            #expect(try await client.answer("/api/v1/devices?limit=0").status == .badRequest)
            #expect(try await client.answer("/api/v1/devices/press-1").status == .notFound)
            let badID = try await client.answer("/api/v1/devices/a%20b")
            #expect(badID.status == .badRequest && badID.fieldsInError == ["id"])
            // Hostile ids: control characters, broken percent-encoding, invisible characters, huge.
            for hostile in ["%00", "%0A", "%ZZ", "%C3%28", "%E2%80%8B", String(repeating: "a", count: 2_000)] {
                let answer = try await client.answer("/api/v1/devices/" + hostile)
                #expect(answer.status == .badRequest, "\(hostile.prefix(20)): \(answer.status)")
            }
            for hostile in ["%00", "a%0Ab", String(repeating: "a", count: 2_000)] {
                let answer = try await client.answer("/api/v1/devices?id=" + hostile)
                #expect(answer.status == .badRequest && answer.fieldsInError == ["id"], "\(hostile.prefix(20))")
            }
            let catalog = try await client.answer("/api/v1/catalog")
            let metrics = catalog.json["metrics"] as? [[String: Any]] ?? []
            #expect(catalog.status == .ok && metrics.first?["metric"] as? String == "temperature")
            #expect((metrics.first?["warning"] as? [String: Any])?["high"] as? Double == 45)

            #expect(try await client.answer("/api/v1/readings").fieldsInError == ["device"])
            let backwards = try await client.answer(
                "/api/v1/readings?device=press-1&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z")
            #expect(backwards.status == .badRequest && backwards.fieldsInError == ["from"])
            let tooLong = try await client.answer(
                "/api/v1/readings?device=press-1&from=1900-01-01T00:00:00Z&to=2026-01-01T00:00:00Z")
            #expect(tooLong.status == .badRequest && tooLong.text.contains("days"))
            let badMetric = try await client.answer("/api/v1/readings?device=press-1&metric=colour")
            #expect(badMetric.status == .badRequest && badMetric.fieldsInError == ["metric"])
            let noInflux = try await client.answer("/api/v1/readings?device=press-1")
            #expect(noInflux.status == .serviceUnavailable && noInflux.text.contains("InfluxDB"))
        }
    }
}
