import ArgumentParser
import Foundation
import Logging
import MQTT
import MobyCore
import Simulation
import Synchronization

/// moby-sensor: the edge agent. Simulates factory devices publishing seed-format readings over
/// MQTT (QoS 1, per-device topics) at a steady aggregate rate, through an on-disk outbox that
/// holds readings while the broker is unreachable.
@main
struct SensorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moby-sensor",
        abstract: "Simulated factory sensors publishing readings to MQTT through a durable outbox.")

    @Option(help: "MQTT broker, mqtt://user:pass@host:port (env MOBY_MQTT_URL)")
    var mqttURL: String = ProcessInfo.processInfo.environment["MOBY_MQTT_URL"] ?? "mqtt://127.0.0.1:1883"

    @Option(help: "Number of simulated devices (sensor_001, sensor_002, …)")
    var devices: Int = 3

    @Option(help: "Aggregate readings per second over all devices")
    var rate: Double = 3

    @Option(help: "Stop after this many readings, once all are acknowledged (0: run until interrupted)")
    var count: Int = 0

    @Option(help: "Random seed for deterministic signals")
    var seed: UInt64 = 1

    @Option(help: "Device id prefix")
    var prefix: String = "sensor_"

    @Option(help: "MQTT client id")
    var clientID: String = "moby-sensor-\(getpid())"

    @Option(help: "Outbox folder: readings wait here until the broker acknowledges them (env MOBY_SENSOR_OUTBOX)")
    var outbox: String = ProcessInfo.processInfo.environment["MOBY_SENSOR_OUTBOX"] ?? "./var/sensor-outbox"

    @Option(help: "Disk the outbox may use (MiB); beyond it new readings are refused and counted")
    var outboxMaxMB: Int = 256

    @Option(
        name: .customLong("anomaly"),
        help: ArgumentHelp(
            "Inject an anomaly: KIND:DEVICE@START[+DURATION], KIND one of spike, drift, stuck, noise, dropout (repeatable)",
            valueName: "injection"))
    var anomalies: [String] = []

    func validate() throws {
        for text in anomalies {
            do {
                _ = try AnomalyInjection(parsing: text)
            } catch {
                throw ValidationError("--anomaly \(error.description)")
            }
        }
        guard devices > 0 else { throw ValidationError("--devices must be at least 1") }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard count >= 0 else { throw ValidationError("--count must not be negative") }
        guard outboxMaxMB > 0 else { throw ValidationError("--outbox-max-mb must be positive") }
    }

    func run() async throws {
        let logger = Logger(label: "moby-sensor")
        var configuration = try MQTTConfiguration(url: mqttURL, clientID: clientID)
        configuration.cleanSession = false
        let client = MQTTClient(configuration: configuration, logger: logger)
        let box = try Outbox(directory: outbox, maxBytes: Int64(outboxMaxMB) * 1024 * 1024)
        if box.depth.lines > 0 {
            logger.notice(
                "outbox holds readings from before; sending them first", metadata: ["readings": "\(box.depth.lines)"])
        }
        let width = max(3, String(devices).count)
        let injections = try anomalies.map { try AnomalyInjection(parsing: $0) }
        let simulated = (1...devices).map { index in
            let number = String(index)
            let id = prefix + String(repeating: "0", count: max(0, width - number.count)) + number
            return SimulatedDevice(
                deviceID: id, seed: seed &+ UInt64(index), injections: injections.filter { $0.deviceID == id })
        }
        for injection in injections where !simulated.contains(where: { $0.deviceID == injection.deviceID }) {
            throw ValidationError("--anomaly names \(injection.deviceID), which is not one of the simulated devices")
        }
        let agent = SensorAgent(client: client, outbox: box, logger: logger)
        let stop = Task {
            await StopSignal.wait()
            logger.info("stopping; readings not yet acknowledged stay in the outbox")
            agent.stop()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            group.addTask { try await agent.drain() }
            group.addTask { await agent.report(every: .seconds(10)) }
            group.addTask {
                try await agent.generate(devices: simulated, rate: rate, count: count)
            }
            try await agent.finished()
            await client.disconnect()
            group.cancelAll()
        }
        stop.cancel()
        logger.info("done", metadata: agent.summary)
    }
}

/// Waits for SIGINT or SIGTERM.
enum StopSignal {
    static func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Mutex(false)
            var sources: [any DispatchSourceSignal] = []
            for value in [SIGINT, SIGTERM] {
                signal(value, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: value)
                source.setEventHandler {
                    let first = once.withLock { fired in
                        defer { fired = true }
                        return !fired
                    }
                    if first { continuation.resume() }
                }
                source.resume()
                sources.append(source)
            }
            Retained.sources.withLock { $0.append(contentsOf: sources.map { SendableSource(source: $0) }) }
        }
    }

    struct SendableSource: @unchecked Sendable { let source: any DispatchSourceSignal }

    enum Retained {
        static let sources = Mutex<[SendableSource]>([])
    }
}
