import Foundation
import Influx
import Logging
import MQTT
import MobyTestSupport
import NIOCore
import Testing

/// Real Mosquitto, InfluxDB and moby-server processes, and a stream of uniquely keyed readings
/// whose arrival in InfluxDB can be checked exactly: reading `i` has `cycle_count = i`, device
/// `dev_<i % devices>` and timestamp `base + i` ms.
struct FaultFixture {
    let broker: TestBroker
    let influx: TestInflux
    let server: TestServerProcess
    let directory: URL
    let base: Int64 = (Int64(Date().timeIntervalSince1970) - 600) * 1_000_000_000

    static func with(_ body: (FaultFixture) async throws -> Void) async throws {
        let broker = try TestBroker()
        let influx = try TestInflux()
        try await broker.start()
        try await influx.start()
        let directory = try TestPaths.scratch("fault")
        let server = try TestServerProcess(
            environment: [
                "MOBY_MQTT_URL": broker.url, "MOBY_INFLUX_URL": influx.url, "MOBY_INFLUX_DB": "faults",
                "MOBY_DATA_DIR": directory.appendingPathComponent("server").path, "MOBY_LOG_LEVEL": "info",
                "MOBY_MQTT_CLIENT_ID": "moby-server-faults", "MOBY_CATALOG_FILE": TestPaths.catalog,
                "MOBY_AUTH_OPEN_MONITORING": "true",
            ], directory: directory)
        func stopAll() async {
            await server.process.stopOffThread()
            await influx.process.stopOffThread(timeout: 2)
            await broker.process.stopOffThread()
        }
        do {
            try await server.start()
            try await body(FaultFixture(broker: broker, influx: influx, server: server, directory: directory))
        } catch {
            await stopAll()
            throw error
        }
        await stopAll()
    }

    func payload(_ index: Int, devices: Int) -> ByteBuffer {
        ByteBuffer(
            string:
                #"{"device_id":"dev_\#(index % devices)","temperature":\#(20 + Double(index % 50) / 10),"cycle_count":\#(index),"timestamp":"\#(stamp(index))"}"#
        )
    }

    /// The RFC 3339 timestamp of reading `index`: 1 ms apart from `base`.
    func stamp(_ index: Int) -> String {
        let nanos = base + Int64(index) * 1_000_000
        let seconds = nanos / 1_000_000_000
        let millis = (nanos / 1_000_000) % 1000
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!,
            Int(millis))
    }

    /// Publishes readings `0..<total` with QoS 1 at about `rate` per second from one client that
    /// rides out broker restarts; returns when the broker acknowledged all of them.
    func publish(total: Int, devices: Int = 20, rate: Double) async throws {
        var configuration = try MQTTConfiguration(url: broker.url, clientID: "fault-publisher")
        configuration.cleanSession = false
        let client = MQTTClient(configuration: configuration, logger: testLogger("fault-publisher"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { publishes in
                var inFlight = 0
                for index in 0..<total {
                    let due = start + .nanoseconds(Int64(Double(index) / rate * 1e9))
                    if due > .now { try await Task.sleep(until: due, clock: .continuous) }
                    if inFlight >= 200 {
                        try await publishes.next()
                        inFlight -= 1
                    }
                    let payload = payload(index, devices: devices)
                    publishes.addTask {
                        try await client.publish(
                            topic: "factory/sensor/data/dev_\(index % devices)", payload: payload, qos: .atLeastOnce)
                    }
                    inFlight += 1
                }
                try await publishes.waitForAll()
            }
            await client.disconnect()
            group.cancelAll()
        }
    }

    /// Count and sum of `cycle_count` in InfluxDB: the readings' keys.
    func storedKeys() async throws -> (count: Int64, sum: Int64) {
        let client = InfluxClient(configuration: InfluxConfiguration(url: influx.baseURL, database: "faults"))
        let result = try await client.query("SELECT count(cycle_count), sum(cycle_count) FROM sensors")
        guard let row = result.first?.series.first?.values.first, row.count == 3 else { return (0, 0) }
        return (row[1].int ?? 0, row[2].int ?? 0)
    }

    /// Waits until InfluxDB holds exactly readings `0..<total`, then checks count and checksum.
    func expectExactly(_ total: Int, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        var keys: (count: Int64, sum: Int64) = (0, 0)
        while ContinuousClock.now < deadline {
            keys = (try? await storedKeys()) ?? (0, 0)
            if keys.count >= Int64(total) { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let expectedSum = Int64(total) * Int64(total - 1) / 2
        #expect(keys.count == Int64(total), "readings lost: \(Int64(total) - keys.count)\n\(server.process.logTail())")
        #expect(keys.sum == expectedSum, "checksum of keys")
    }

    /// Waits until InfluxDB holds `total` readings (any keys), then checks the count.
    func expectStored(_ total: Int, timeout: Duration = .seconds(60)) async throws {
        let client = InfluxClient(configuration: InfluxConfiguration(url: influx.baseURL, database: "faults"))
        let deadline = ContinuousClock.now + timeout
        var count: Int64 = 0
        while ContinuousClock.now < deadline {
            let result = try? await client.query("SELECT count(temperature) FROM sensors")
            count = result?.first?.series.first?.values.first?.last?.int ?? 0
            if count >= Int64(total) { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(count == Int64(total), "readings lost: \(Int64(total) - count)\n\(server.process.logTail())")
    }

    /// A moby-sensor process publishing to this fixture's broker (not started yet).
    func sensor(_ arguments: [String], name: String) throws -> ServiceProcess {
        ServiceProcess(
            name: "moby-sensor", executable: try TestExecutable.path("moby-sensor"),
            arguments: ["--mqtt-url", broker.url, "--client-id", name] + arguments,
            logFile: directory.appendingPathComponent("\(name).log"))
    }

    /// Waits for `sensor` to exit by itself (everything generated was acknowledged).
    func expectFinished(_ sensor: ServiceProcess, within timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while sensor.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!sensor.isRunning, "the agent finishes once everything is acknowledged:\n\(sensor.logTail())")
    }

    /// Peak resident memory of the server process (kB), from /proc.
    func serverPeakRSS() -> Int? {
        guard let pid = server.process.pid,
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
}
