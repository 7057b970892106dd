import Foundation
import Logging
import MQTT
import MobyTestSupport
import Synchronization
import Testing

/// Per-device credentials against a Mosquitto that requires them: each listed device connects
/// as itself; a device with a wrong password is refused and its readings wait in its own outbox
/// while the others flow.
@Suite struct CredentialsTests {
    /// A broker with users `admin` (reads everything), `fleet` (shared link) and one per device,
    /// each device allowed to write only its own topic.
    func broker() throws -> TestBroker {
        try TestBroker(label: "mosquitto-auth") { directory in
            try .users(
                [("admin", "admin-pw"), ("fleet", "fleet-pw"), ("sensor_001", "one"), ("sensor_002", "two")],
                acl: """
                    user admin
                    topic read #
                    user fleet
                    topic write factory/sensor/data/#
                    pattern write factory/sensor/data/%u
                    """, in: directory)
        }
    }

    final class Topics: Sendable {
        let seen = Mutex<[String: Int]>([:])
    }

    @Test func eachDeviceConnectsWithItsOwnCredentials() async throws {
        let broker = try broker()
        try await broker.start()
        defer { broker.stop() }
        let folder = try TestPaths.scratch("credentials")
        let credentials = folder.appendingPathComponent("credentials")
        try "# device user password\nsensor_001 sensor_001 one\nsensor_002 sensor_002 wrong\n"
            .write(to: credentials, atomically: true, encoding: .utf8)
        let outbox = folder.appendingPathComponent("outbox")
        let topics = Topics()
        var configuration = try MQTTConfiguration(
            url: "mqtt://admin:admin-pw@127.0.0.1:\(broker.port)", clientID: "admin")
        configuration.cleanSession = true
        let subscriber = MQTTClient(configuration: configuration, logger: testLogger("admin"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            _ = try await subscriber.subscribe([("factory/sensor/data/#", .atLeastOnce)])
            group.addTask {
                for await message in subscriber.messages {
                    topics.seen.withLock { $0[message.topic, default: 0] += 1 }
                    subscriber.acknowledge(message)
                }
            }
            let sensor = ServiceProcess(
                name: "moby-sensor", executable: try TestExecutable.path("moby-sensor"),
                arguments: [
                    "--mqtt-url", "mqtt://fleet:fleet-pw@127.0.0.1:\(broker.port)", "--devices", "3", "--rate", "60",
                    "--credentials", credentials.path, "--outbox", outbox.path, "--client-id", "cred-test",
                ],
                logFile: folder.appendingPathComponent("moby-sensor.log"))
            try sensor.start()
            // 20 readings a second per device: more than 20 each from the two admitted devices,
            // sensor_002's refusal logged and its readings in its outbox (a slow start on a loaded
            // machine only makes this take longer).
            let refusedOutbox = outbox.appendingPathComponent("devices/sensor_002").path
            try await eventually("readings of sensor_001 and sensor_003, sensor_002 refused", timeout: .seconds(30)) {
                let admitted = topics.seen.withLock {
                    ($0["factory/sensor/data/sensor_001"] ?? 0) > 20 && ($0["factory/sensor/data/sensor_003"] ?? 0) > 20
                }
                let waiting = (try? FileManager.default.contentsOfDirectory(atPath: refusedOutbox)) ?? []
                let logged = sensor.logTail().contains("sensor_002")
                return admitted && logged && waiting.contains { $0.hasSuffix(".spool") }
            }
            #expect(sensor.isRunning)
            // Published for a while with its connection refused all along: nothing arrived.
            try await Task.sleep(for: .seconds(1))
            sensor.stop()
            let seen = topics.seen.withLock { $0 }
            #expect(seen["factory/sensor/data/sensor_002"] == nil, "refused credentials: \(seen)")
            await subscriber.disconnect()
            group.cancelAll()
        }
    }
}
