import Foundation
import Logging
import MQTT
import MobyCore
import Simulation
import Synchronization

/// Moves readings from the simulators into the outbox and from the outbox to the broker.
/// Generation never waits for the broker: readings are paced by the clock and fsynced to the
/// outbox in small groups; the drain loop publishes the oldest ones with QoS 1 and removes
/// them once acknowledged.
final class SensorAgent: Sendable {
    private struct State {
        var generated = 0
        var acknowledged = 0
        var refused = 0
        var generationDone = false
        var stopped = false
    }

    private let client: MQTTClient
    private let outbox: Outbox
    private let logger: Logger
    private let state = Mutex(State())
    /// Publishes in flight at once (the client's window).
    private let window = 1_000

    init(client: MQTTClient, outbox: Outbox, logger: Logger) {
        self.client = client
        self.outbox = outbox
        self.logger = logger
    }

    func stop() { state.withLock { $0.stopped = true } }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    var summary: Logger.Metadata {
        let snapshot = state.withLock { $0 }
        return [
            "generated": "\(snapshot.generated)", "acknowledged": "\(snapshot.acknowledged)",
            "refused": "\(snapshot.refused)", "outbox": "\(outbox.depth.lines)",
        ]
    }

    /// Returns when generation is done and the outbox is empty, or when stopped.
    func finished() async throws {
        while true {
            let (done, stopped) = state.withLock { ($0.generationDone, $0.stopped) }
            if stopped || (done && outbox.depth.records == 0) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Generates `count` readings (0: forever) at `rate` per second, round-robin over `devices`.
    func generate(devices: [SimulatedDevice], rate: Double, count: Int) async throws {
        var devices = devices
        let clock = ContinuousClock()
        let start = clock.now
        var index = 0
        var pending: [Outbox.Message] = []
        var lastFlush = clock.now
        let flushEvery = Duration.milliseconds(50)
        while (count == 0 || index < count) && !isStopped {
            let due = start + .nanoseconds(Int64(Double(index) / rate * 1e9))
            let now = clock.now
            if due > now {
                // Flush what is pending before sleeping past the flush interval.
                if !pending.isEmpty && now - lastFlush >= flushEvery {
                    flush(&pending)
                    lastFlush = now
                }
                try await Task.sleep(until: min(due, now + flushEvery), clock: clock)
                continue
            }
            let device = index % devices.count
            index += 1
            guard let payload = devices[device].reading(at: WallClock.nanoseconds(), elapsed: clock.now - start) else {
                continue  // an injected dropout
            }
            pending.append(
                Outbox.Message(topic: ReadingTopic.topic(for: devices[device].deviceID), payload: Array(payload.utf8)))
            if pending.count >= 2_000 || clock.now - lastFlush >= flushEvery {
                flush(&pending)
                lastFlush = clock.now
            }
        }
        flush(&pending)
        state.withLock { $0.generationDone = true }
    }

    private func flush(_ pending: inout [Outbox.Message]) {
        guard !pending.isEmpty else { return }
        let count = pending.count
        do {
            try outbox.append(pending)
            state.withLock { $0.generated += count }
        } catch {
            state.withLock {
                $0.generated += count
                $0.refused += count
            }
            logger.error("outbox refused readings", metadata: ["readings": "\(count)", "error": "\(error)"])
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Publishes the outbox's oldest readings, forever (until cancelled).
    func drain() async throws {
        while !Task.isCancelled {
            guard let batch = try outbox.next(maxMessages: 2_000) else {
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for message in batch.messages {
                    if inFlight >= window {
                        try await group.next()
                        inFlight -= 1
                    }
                    group.addTask {
                        try await self.client.publish(
                            topic: message.topic, payload: ByteBuffer(bytes: message.payload), qos: .atLeastOnce)
                    }
                    inFlight += 1
                }
                try await group.waitForAll()
            }
            try outbox.remove(batch)
            state.withLock { $0.acknowledged += batch.messages.count }
        }
    }

    /// Logs progress (rate, acknowledged, outbox depth) every `interval`.
    func report(every interval: Duration) async {
        var last = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let acknowledged = state.withLock { $0.acknowledged }
            let seconds = Double(interval.components.seconds)
            var metadata = summary
            metadata["rate"] = "\(Int(Double(acknowledged - last) / seconds))/s"
            logger.info("progress", metadata: metadata)
            last = acknowledged
        }
    }
}
