import Foundation
import Logging
import MQTT
import MobyCore
import Simulation
import Spool
import Synchronization

/// Moves readings from the simulators into the outbox and from the outbox to the broker.
/// Generation never waits for the broker: readings are paced by the clock and fsynced to the
/// outbox in small groups; the drain loop publishes the oldest ones with QoS 1 and removes
/// them once acknowledged.
public final class SensorAgent: Sendable {
    private struct State {
        var generated = 0
        var acknowledged = 0
        var refused = 0
        var rejected = 0
        var generationDone = false
        var stopped = false
    }

    private let client: MQTTClient
    public let outbox: Outbox
    private let logger: Logger
    private let state = Mutex(State())

    public init(client: MQTTClient, outbox: Outbox, logger: Logger) {
        self.client = client
        self.outbox = outbox
        self.logger = logger
    }

    public func stop() { state.withLock { $0.stopped = true } }

    /// This agent's connection has nothing to generate (its share of `--count` is 0): it is done
    /// once its outbox is empty.
    public func nothingToGenerate() { state.withLock { $0.generationDone = true } }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    public var summary: Logger.Metadata {
        let snapshot = state.withLock { $0 }
        return [
            "generated": "\(snapshot.generated)", "acknowledged": "\(snapshot.acknowledged)",
            "refused": "\(snapshot.refused)", "rejected": "\(snapshot.rejected)", "outbox": "\(outbox.depth.lines)",
        ]
    }

    /// Returns when generation is done and the outbox is empty, or when stopped.
    public func finished() async throws {
        while true {
            let (done, stopped) = state.withLock { ($0.generationDone, $0.stopped) }
            if stopped || (done && outbox.depth.records == 0) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The shortest pause of the generator.
    static let minimumSleep = Duration.milliseconds(1)

    /// Generates `count` readings (0: forever) at `rate` per second, round-robin over `devices`.
    public func generate(devices: [SimulatedDevice], rate: Double, count: Int) async throws {
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
                    await flush(&pending)
                    lastFlush = now
                }
                // At least a millisecond: at high rates one timer per reading costs more than the
                // reading itself; the readings due meanwhile are then generated together.
                try await Task.sleep(until: min(max(due, now + Self.minimumSleep), now + flushEvery), clock: clock)
                continue
            }
            let device = index % devices.count
            index += 1
            guard let payload = devices[device].readingBytes(at: WallClock.nanoseconds(), elapsed: clock.now - start)
            else {
                continue  // an injected dropout
            }
            pending.append(Outbox.Message(topic: ReadingTopic.topic(for: devices[device].deviceID), payload: payload))
            if pending.count >= 2_000 || clock.now - lastFlush >= flushEvery {
                await flush(&pending)
                lastFlush = clock.now
            }
        }
        await flush(&pending)
        state.withLock { $0.generationDone = true }
    }

    /// Forwards readings from another program (`LineSource`): each line is checked and stamped
    /// (`ForwardedReading`), then queued in the outbox in 50 ms groups. Lines that cannot be sent
    /// are logged, counted and kept with the reason in `rejected.jsonl` beside the outbox.
    public func forward(_ lines: AsyncStream<String>, defaultDeviceID: String?) async throws {
        let pending = PendingMessages()
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
                var batch = pending.take()
                await flush(&batch)
            }
        }
        defer { ticker.cancel() }
        for await line in lines {
            if isStopped { break }
            switch ForwardedReading.prepare(line, defaultDeviceID: defaultDeviceID, now: WallClock.nanoseconds()) {
            case nil: continue
            case .success(let message)?:
                if pending.add(message) >= 2_000 {
                    var batch = pending.take()
                    await flush(&batch)
                }
            case .failure(let rejection)?:
                await reject(rejection)
            }
        }
        ticker.cancel()
        await ticker.value
        var rest = pending.take()
        await flush(&rest)
        state.withLock { $0.generationDone = true }
    }

    /// The most of a rejected line `rejected.jsonl` keeps (with its size), and the most the file
    /// may grow to: it sits beside the outbox, outside its limit, and a program printing garbage
    /// must not fill the disk the outbox needs.
    static let maxRejectedLineBytes = 4_096
    static let maxRejectedFileBytes: UInt64 = 64 << 20

    private func reject(_ rejection: ForwardRejection) async {
        let first = state.withLock { state in
            state.rejected += 1
            return state.rejected == 1
        }
        logger.warning(
            "reading not forwarded",
            metadata: ["reason": "\(rejection.reason)", "line": "\(rejection.line.prefix(200))"])
        let bytes = rejection.line.utf8.count
        var entry =
            "{\"rejected_at\":\(ForwardedReading.quoted(RFC3339.format(WallClock.nanoseconds()))),"
            + "\"reason\":\(ForwardedReading.quoted(rejection.reason)),"
        if bytes > Self.maxRejectedLineBytes {
            let kept = String(decoding: rejection.line.utf8.prefix(Self.maxRejectedLineBytes), as: UTF8.self)
            entry += "\"line\":\(ForwardedReading.quoted(kept)),\"line_bytes\":\(bytes),\"line_truncated\":true}\n"
        } else {
            entry += "\"line\":\(ForwardedReading.quoted(rejection.line))}\n"
        }
        let path = outbox.spool.directory + "/rejected.jsonl"
        let limit = Self.maxRejectedFileBytes
        let record = Data(entry.utf8)
        do {
            let kept = try await DiskThreads.run { () throws(SpoolError) -> Bool in
                if !FileManager.default.fileExists(atPath: path) {
                    _ = FileManager.default.createFile(atPath: path, contents: nil)
                }
                guard let handle = FileHandle(forWritingAtPath: path) else { throw .io("open \(path)", EACCES) }
                defer { try? handle.close() }
                do {
                    guard try handle.seekToEnd() < limit else { return false }
                    try handle.write(contentsOf: record)
                    return true
                } catch {
                    throw .io("append to \(path): \(error)", EIO)
                }
            }
            if !kept && (first || state.withLock({ $0.rejected }) % 1_000 == 0) {
                logger.error(
                    "rejected lines are no longer kept: the file has reached its limit (they are still counted)",
                    metadata: ["file": "\(path)", "limit_bytes": "\(limit)"])
            }
        } catch {
            logger.error("cannot keep the rejected line", metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }

    private func flush(_ pending: inout [Outbox.Message]) async {
        guard !pending.isEmpty else { return }
        let count = pending.count
        do {
            try await outbox.append(pending)
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

    /// Publishes the outbox's oldest readings, forever (until cancelled): each outbox batch in
    /// one `publish(contentsOf:)` call (the client keeps its in-flight window full), and the batch
    /// leaves the outbox once all of it is acknowledged.
    public func drain() async throws {
        while !Task.isCancelled {
            guard let batch = try await outbox.next(maxMessages: 5_000) else {
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            let messages = batch.outgoing
            try await client.publish(contentsOf: messages, qos: .atLeastOnce)
            try await outbox.remove(batch)
            state.withLock { $0.acknowledged += messages.count }
        }
    }

    /// Reports the progress of `agents` together (rate, acknowledged, outbox depth): on a
    /// terminal, one line rewritten in place every second; otherwise a log entry every `interval`.
    public static func report(_ agents: [SensorAgent], every interval: Duration, terminal: Bool, logger: Logger) async {
        func total() -> (generated: Int, acknowledged: Int, refused: Int, rejected: Int, outbox: Int) {
            agents.reduce((0, 0, 0, 0, 0)) { sum, agent in
                let counts = agent.counts
                return (
                    sum.0 + counts.generated, sum.1 + counts.acknowledged, sum.2 + counts.refused,
                    sum.3 + counts.rejected, sum.4 + agent.outbox.depth.lines
                )
            }
        }
        var last = total().acknowledged
        var lastTime = ContinuousClock.now
        let period = terminal ? Duration.seconds(1) : interval
        while !Task.isCancelled {
            try? await Task.sleep(for: period)
            if Task.isCancelled { break }
            let now = ContinuousClock.now
            let counts = total()
            let seconds = Double((now - lastTime).nanoseconds) / 1e9
            let rate = Int((Double(counts.acknowledged - last) / max(seconds, 0.001)).rounded())
            last = counts.acknowledged
            lastTime = now
            if terminal {
                var line =
                    "\r\u{1B}[2Kmoby-sensor  \(rate)/s · \(counts.acknowledged) acked · "
                    + "\(counts.generated) generated · outbox \(counts.outbox)"
                if counts.refused > 0 { line += " · \(counts.refused) refused (outbox full)" }
                if counts.rejected > 0 { line += " · \(counts.rejected) rejected" }
                FileHandle.standardError.write(Data(line.utf8))
            } else {
                logger.info(
                    "progress",
                    metadata: [
                        "rate": "\(rate)/s", "acknowledged": "\(counts.acknowledged)",
                        "generated": "\(counts.generated)",
                        "outbox": "\(counts.outbox)", "refused": "\(counts.refused)", "rejected": "\(counts.rejected)",
                    ])
            }
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// Counts so far, for tests and the final log line.
    public var counts: (generated: Int, acknowledged: Int, refused: Int, rejected: Int) {
        state.withLock { ($0.generated, $0.acknowledged, $0.refused, $0.rejected) }
    }
}

/// Forwarded messages waiting for the next outbox group, shared by the reading loop and the
/// 50 ms flush timer.
private final class PendingMessages: Sendable {
    private let messages = Mutex<[Outbox.Message]>([])

    /// Adds one; returns how many are pending.
    func add(_ message: Outbox.Message) -> Int {
        messages.withLock {
            $0.append(message)
            return $0.count
        }
    }

    /// Takes everything pending, so each message is flushed exactly once.
    func take() -> [Outbox.Message] {
        messages.withLock { batch in
            defer { batch.removeAll() }
            return batch
        }
    }
}
