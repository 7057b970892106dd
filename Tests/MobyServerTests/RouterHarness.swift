import Foundation
import Hummingbird
import HummingbirdTesting
import MobyCore
import MobyTestSupport

@testable import MobyServer

/// The HTTP API in-process through Hummingbird's router test client, over the server's real
/// parts: a temporary data folder (SQLite alert store, spool) and MQTT and InfluxDB clients
/// aimed at a closed port, never connected. For every status code that needs no broker or
/// InfluxDB; the live tests cover the rest.
struct RouterHarness {
    let parts: ServerParts

    init(_ settings: [String: String] = [:]) async throws {
        let directory = try TestPaths.scratch("router")
        var values = [
            "moby.data.dir": directory.path, "moby.catalog.file": TestPaths.catalog,
            "moby.mqtt.url": "mqtt://127.0.0.1:1", "moby.influx.url": "http://127.0.0.1:1",
            "moby.influx.timeout.ms": "1000", "moby.web.dir": directory.appendingPathComponent("web").path,
            // The features' tests; AccessTests checks the guard with authentication on.
            "moby.auth": "off",
        ]
        values.merge(settings) { $1 }
        parts = try await ServerParts.open(
            configuration: try ServerConfiguration(values), logger: testLogger(), metrics: ServerMetrics())
    }

    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await Application(router: buildRouter(parts)).test(.router) { client in try await body(client) }
    }

    /// What a reading of `device` at `temperature` did to its episode, as ingest reports it.
    func signal(_ change: AnomalyEpisode.Change, device: String, temperature: Double = 95) -> AnomalySignal {
        let reading = Reading(
            deviceID: device, timestamp: WallClock.nanoseconds(), values: [MetricValue(.temperature, temperature)])
        return AnomalySignal(
            deviceID: device, change: change, severity: change == .cleared ? nil : .critical,
            assessment: AnomalyScorer(catalog: parts.configuration.catalog).assess(reading),
            readingAt: reading.timestamp)
    }

    /// Raises an alert on `device` (as three anomalous readings would) and returns its id.
    func raiseAlert(device: String, temperature: Double = 95) async throws -> Int64 {
        await parts.center.handle(signal(.raised(.critical), device: device, temperature: temperature))
        guard let alert = await parts.center.openAlerts().first(where: { $0.deviceID == device }) else {
            throw ConfigurationError("no alert was raised for \(device)")
        }
        return alert.id
    }
}

/// A response's status and JSON body.
struct Answer: Sendable {
    var status: HTTPResponse.Status
    var text: String
    var headers: HTTPFields

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// The `field` of each entry of `errors`.
    var fieldsInError: [String] {
        (json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
    }
}

extension TestClientProtocol {
    func answer(
        _ uri: String, _ method: HTTPRequest.Method = .get, json body: String? = nil, headers: HTTPFields = [:]
    ) async throws -> Answer {
        var headers = headers
        if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        { response in
            Answer(status: response.status, text: String(buffer: response.body), headers: response.headers)
        }
    }
}
