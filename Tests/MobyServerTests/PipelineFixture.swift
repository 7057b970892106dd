import Foundation
import Hummingbird
import HummingbirdTesting
import Influx
import Logging
import MQTT
import MobyServer
import MobyTestSupport
import NIOCore
import Testing

/// A real broker and a real InfluxDB for one test, plus helpers to talk to both.
struct PipelineFixture {
    let broker: TestBroker
    let influx: TestInflux
    let database: String

    var influxClient: InfluxClient {
        InfluxClient(configuration: InfluxConfiguration(url: influx.baseURL, database: database))
    }

    /// Server settings pointing at this fixture's services.
    func configuration(_ overrides: [String: String] = [:]) throws -> ServerConfiguration {
        var values = [
            "moby.mqtt.url": broker.url,
            "moby.mqtt.client.id": "moby-server-test-\(UUID().uuidString.prefix(6))",
            "moby.influx.url": influx.url,
            "moby.influx.db": database,
            "moby.http.port": "0",
            "moby.data.dir": broker.directory.path,
            "moby.catalog.file": TestPaths.catalog,
            // The pipeline's tests; AccessTests checks the guard with authentication on.
            "moby.auth": "off",
        ]
        values.merge(overrides) { $1 }
        return try ServerConfiguration(values)
    }

    /// Starts both services, runs `body`, stops them. `brokerSizeLimit: false` runs Mosquitto
    /// without the shipped `max_packet_size`; `maxValuesPerTag` sets InfluxDB's series limit.
    static func with<T>(
        brokerSizeLimit: Bool = true, maxValuesPerTag: Int? = nil, influxSettings: [String: [String]] = [:],
        _ body: (PipelineFixture) async throws -> T
    ) async throws -> T {
        try await TestBroker.with(sizeLimit: brokerSizeLimit) { broker in
            try await TestInflux.with(maxValuesPerTag: maxValuesPerTag, settings: influxSettings) { influx in
                try await body(PipelineFixture(broker: broker, influx: influx, database: "moby_test"))
            }
        }
    }

    /// Number of points in `sensors` (0 when the measurement does not exist yet).
    func storedCount(field: String = "temperature") async throws -> Int {
        let results = try await influxClient.query("SELECT count(\"\(field)\") FROM sensors")
        return Int(results.first?.series.first?.values.first?.last?.int ?? 0)
    }

    /// Waits until `storedCount` reaches `expected` and returns it (more than expected is for
    /// the caller to judge); fails the test after `timeout`.
    func waitForCount(_ expected: Int, field: String = "temperature", timeout: Duration = .seconds(60)) async throws
        -> Int
    {
        try await eventuallyValue(
            "\(expected) points of \(field) in InfluxDB", timeout: timeout, interval: .milliseconds(200)
        ) {
            let count = (try? await storedCount(field: field)) ?? 0
            return count >= expected ? count : nil
        }
    }
}

/// Waits until `/health/ready` answers 200 (subscribed, InfluxDB reachable).
func waitUntilReady(_ client: some TestClientProtocol, timeout: Duration = .seconds(20)) async throws {
    try await eventually("the server to be ready", timeout: timeout, interval: .milliseconds(50)) {
        try await isReady(client)
    }
}

/// Whether `/health/ready` answers 200 right now.
func isReady(_ client: some TestClientProtocol) async throws -> Bool {
    try await client.execute(uri: "/health/ready", method: .get) { $0.status == .ok }
}

/// The server's `/metrics` text.
func metricsText(_ client: some TestClientProtocol) async throws -> String {
    try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
}

/// The server's `/metrics` text once metric `name` has `value` (counters move after the write
/// they count is answered, which can be after the point is visible in InfluxDB); a wait that
/// times out fails.
func metricsText(
    _ client: some TestClientProtocol, once name: String, is value: Double, timeout: Duration = .seconds(20)
) async throws -> String {
    try await eventuallyValue("\(name) = \(value)", timeout: timeout, interval: .milliseconds(50)) {
        let text = try await metricsText(client)
        return metric(name, in: text) == value ? text : nil
    }
}

/// An MQTT client for a test, running in the background until `body` returns.
func withMQTTClient<T>(
    url: String, clientID: String = "test-\(UUID().uuidString.prefix(8))", cleanSession: Bool = true,
    _ body: (MQTTClient) async throws -> T
) async throws -> T {
    var configuration = try MQTTConfiguration(url: url, clientID: clientID)
    configuration.cleanSession = cleanSession
    let client = MQTTClient(configuration: configuration, logger: testLogger("test-client"))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await client.run() }
        defer { group.cancelAll() }
        let result = try await body(client)
        await client.disconnect()
        return result
    }
}
