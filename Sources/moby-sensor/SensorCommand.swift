import ArgumentParser
import Foundation
import Logging
import MQTT
import MobyCore
import NIOCore

/// moby-sensor: simulates factory devices publishing seed-format readings over MQTT (QoS 1,
/// per-device topics) at a steady aggregate rate.
@main
struct SensorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moby-sensor",
        abstract: "Simulated factory sensors publishing readings to MQTT.")

    @Option(help: "MQTT broker, mqtt://user:pass@host:port (env MOBY_MQTT_URL)")
    var mqttURL: String = ProcessInfo.processInfo.environment["MOBY_MQTT_URL"] ?? "mqtt://127.0.0.1:1883"

    @Option(help: "Number of simulated devices (sensor_001, sensor_002, …)")
    var devices: Int = 3

    @Option(help: "Aggregate readings per second over all devices")
    var rate: Double = 3

    @Option(help: "Stop after this many readings (0: run until interrupted)")
    var count: Int = 0

    @Option(help: "Random seed for deterministic signals")
    var seed: UInt64 = 1

    @Option(help: "Device id prefix")
    var prefix: String = "sensor_"

    @Option(help: "MQTT client id")
    var clientID: String = "moby-sensor-\(getpid())"

    func validate() throws {
        guard devices > 0 else { throw ValidationError("--devices must be at least 1") }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard count >= 0 else { throw ValidationError("--count must not be negative") }
    }

    func run() async throws {
        var logger = Logger(label: "moby-sensor")
        logger.logLevel = .info
        var configuration = try MQTTConfiguration(url: mqttURL, clientID: clientID)
        configuration.cleanSession = false
        let client = MQTTClient(configuration: configuration, logger: logger)
        let width = max(3, String(devices).count)
        var simulated = (1...devices).map { index in
            let number = String(index)
            let id = prefix + String(repeating: "0", count: max(0, width - number.count)) + number
            return SimulatedDevice(deviceID: id, seed: seed &+ UInt64(index))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            let interval = 1.0 / rate
            let clock = ContinuousClock()
            let start = clock.now
            var sent = 0
            var index = 0
            let window = 500
            try await withThrowingTaskGroup(of: Void.self) { publishes in
                var inFlight = 0
                while count == 0 || sent < count {
                    let due = start + .nanoseconds(Int64(Double(sent) * interval * 1e9))
                    if due > clock.now { try await Task.sleep(until: due, clock: clock) }
                    let payload = simulated[index].reading(at: Self.now())
                    let topic = ReadingTopic.topic(for: simulated[index].deviceID)
                    if inFlight >= window {
                        try await publishes.next()
                        inFlight -= 1
                    }
                    publishes.addTask {
                        try await client.publish(topic: topic, payload: ByteBuffer(string: payload), qos: .atLeastOnce)
                    }
                    inFlight += 1
                    sent += 1
                    index = (index + 1) % simulated.count
                    if sent % max(1, Int(rate) * 10) == 0 {
                        logger.info("published", metadata: ["readings": "\(sent)"])
                    }
                }
                try await publishes.waitForAll()
            }
            logger.info("done", metadata: ["readings": "\(sent)"])
            await client.disconnect()
            group.cancelAll()
        }
    }

    static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) * 1000
    }
}
