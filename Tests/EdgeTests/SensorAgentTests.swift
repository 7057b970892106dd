import Edge
import Foundation
import Logging
import MQTT
import MobyCore
import MobyTestSupport
import Simulation
import Synchronization
import Testing

/// The agent against a real Mosquitto: forwarded lines and simulated readings arrive on the
/// device topics; pacing follows the requested rate.
@Suite struct SensorAgentTests {
    let logger = testLogger("edge-test")

    /// Runs `body` with an agent connected to `broker` and a subscriber to every device topic.
    func withAgent(
        _ broker: TestBroker, _ body: (SensorAgent, @escaping @Sendable () -> [MQTTMessage]) async throws -> Void
    ) async throws {
        let received = ReceivedMessages()
        let subscriber = MQTTClient(
            configuration: try MQTTConfiguration(url: broker.url, clientID: "edge-sub-\(UUID().uuidString.prefix(6))"),
            logger: logger)
        var configuration = try MQTTConfiguration(
            url: broker.url, clientID: "edge-agent-\(UUID().uuidString.prefix(6))")
        configuration.cleanSession = false
        let client = MQTTClient(configuration: configuration, logger: logger)
        let outbox = try Outbox(directory: try TestPaths.scratch("agent-outbox").path, maxBytes: 1 << 24)
        let agent = SensorAgent(client: client, outbox: outbox, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            group.addTask { try await client.run() }
            group.addTask { try await agent.drain() }
            _ = try await subscriber.subscribe([("factory/sensor/data/#", .atLeastOnce)])
            group.addTask {
                for await message in subscriber.messages {
                    received.append(message)
                    subscriber.acknowledge(message)
                }
            }
            try await body(agent, { received.all })
            await client.disconnect()
            await subscriber.disconnect()
            group.cancelAll()
        }
    }

    final class ReceivedMessages: Sendable {
        private let messages = Mutex<[MQTTMessage]>([])
        func append(_ message: MQTTMessage) { messages.withLock { $0.append(message) } }
        var all: [MQTTMessage] { messages.withLock { $0 } }
    }

    func waitFor(_ count: Int, _ received: () -> [MQTTMessage]) async throws -> [MQTTMessage] {
        try await eventually("\(count) messages", timeout: .seconds(30)) { received().count >= count }
        return received()
    }

    @Test func forwardedLinesArriveOnTheirDeviceTopicsAndBadOnesAreKeptWithTheReason() async throws {
        try await TestBroker.with { broker in
            try await withAgent(broker) { agent, received in
                // A program's debug output of 100 KB: kept as its first 4 KiB and its size.
                let chatter = "debug: " + String(repeating: "x", count: 100_000)
                let lines = [
                    #"{"device_id":"pi-1","temperature":20.5}"#, "not json", #"{"temperature":21}"#, "",
                    #"{"device_id":"pi-2","humidity":40,"timestamp":"2026-01-01T00:00:00Z"}"#, chatter,
                ]
                let (stream, continuation) = AsyncStream<String>.makeStream()
                for line in lines { continuation.yield(line) }
                continuation.finish()
                try await agent.forward(stream, defaultDeviceID: "pi-default")
                try await agent.finished()
                let messages = try await waitFor(3, received)
                #expect(
                    messages.map(\.topic).sorted() == [
                        "factory/sensor/data/pi-1", "factory/sensor/data/pi-2", "factory/sensor/data/pi-default",
                    ])
                let defaulted = try #require(messages.first { $0.topic.hasSuffix("pi-default") })
                #expect(String(buffer: defaulted.payload).hasPrefix(#"{"device_id":"pi-default","timestamp":""#))
                #expect(agent.counts.rejected == 2 && agent.counts.acknowledged == 3 && agent.counts.generated == 3)
                let rejected = try String(
                    contentsOfFile: agent.outbox.spool.directory + "/rejected.jsonl", encoding: .utf8)
                #expect(rejected.contains(#""line":"not json""#) && rejected.contains("invalid JSON"))
                let long = try #require(rejected.split(separator: "\n").last)
                #expect(long.contains(#""line_bytes":100007,"line_truncated":true"#), "\(long.suffix(100))")
                #expect(long.utf8.count < 5_000)
            }
        }
    }

    @Test func simulatedReadingsArriveAtTheRequestedPace() async throws {
        try await TestBroker.with { broker in
            try await withAgent(broker) { agent, received in
                let devices = (1...20).map { SimulatedDevice(deviceID: "sim-\($0)", seed: UInt64($0)) }
                let started = ContinuousClock.now
                try await agent.generate(devices: devices, rate: 2_000, count: 3_000)
                let generating = ContinuousClock.now - started
                try await agent.finished()
                let messages = try await waitFor(3_000, received)
                #expect(messages.count == 3_000)
                #expect(Set(messages.map(\.topic)).count == 20)
                // 3,000 readings at 2,000/s are paced over 1.5 s (never faster than asked).
                #expect(generating >= .milliseconds(1_490), "generated in \(generating)")
                #expect(generating < .seconds(10), "generated in \(generating)")
                #expect(agent.counts.acknowledged == 3_000 && agent.counts.generated == 3_000)
            }
        }
    }
}
