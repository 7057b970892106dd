import Influx
import Logging
import MQTT
import MobyCore
import NIOCore
import Synchronization

/// What happens to lines InfluxDB refused for good (series limits, field-type conflicts, anything
/// in a partial write): each goes to the dead-letter topic with InfluxDB's reason — a reading
/// with its original message, a line replayed from the spool with its line protocol — before
/// the message is acknowledged, and recent refusals make `/health/ready` report InfluxDB as
/// refusing (see `RefusalWindow`).
final class RefusedReadings: Sendable {
    typealias Line = BatchWriter<MQTTMessage>.RefusedLine

    /// Dead letters in flight at once for one batch.
    static let publishWindow = 64

    let client: MQTTClient
    let deadLetterTopic: String
    let metrics: ServerMetrics
    let logger: Logger
    private let window: Mutex<RefusalWindow>

    init(
        client: MQTTClient, deadLetterTopic: String, metrics: ServerMetrics, logger: Logger,
        window: RefusalWindow = RefusalWindow()
    ) {
        self.client = client
        self.deadLetterTopic = deadLetterTopic
        self.metrics = metrics
        self.logger = logger
        self.window = Mutex(window)
    }

    /// Counts `lines`, notes them for readiness and publishes a dead letter for each (QoS 1,
    /// awaited); returns once every dead letter was acknowledged by the broker or failed, with the
    /// positions of those that failed (their messages must not be acknowledged).
    func deadLetter(_ lines: [Line]) async -> [Int] {
        guard let first = lines.first else { return [] }
        let now = WallClock.nanoseconds()
        let uncertain = lines.count(where: { !$0.certain })
        metrics.linesRefusedByInflux.increment(by: Int64(lines.count))
        if uncertain > 0 { metrics.linesRefusedUncertain.increment(by: Int64(uncertain)) }
        let state = window.withLock { window in
            window.record(lines: lines.count, reason: first.reason, at: .now, wallTime: now)
            return window.state(at: .now)
        }
        updateGauges(state)
        logger.error(
            "InfluxDB refused lines; sending them to the dead-letter topic",
            metadata: [
                "refused": "\(lines.count)", "uncertain": "\(uncertain)", "reason": "\(first.reason)",
                "line": "\(first.line.prefix(200))",
            ])
        return await withTaskGroup(of: (Int, Bool).self) { group in
            var failed: [Int] = []
            for (position, line) in lines.enumerated() {
                if position >= Self.publishWindow, let result = await group.next(), !result.1 {
                    failed.append(result.0)
                }
                group.addTask { (position, await self.publish(Self.letter(for: line, receivedAt: now))) }
            }
            for await result in group where !result.1 { failed.append(result.0) }
            return failed.sorted()
        }
    }

    /// The state `/health/ready` shows; also brings the gauges up to date.
    func currentState() -> RefusalWindow.State {
        let state = window.withLock { $0.state(at: .now) }
        updateGauges(state)
        return state
    }

    /// The dead letter of a refused line: the original message when the line came with one,
    /// otherwise (replayed from the spool) its line protocol, with no topic.
    static func letter(for refused: Line, receivedAt: Int64) -> DeadLetter {
        let errors = [FieldError(field: "influxdb", message: refused.reason)]
        var letter =
            if let message = refused.receipt {
                DeadLetter(
                    topic: message.topic, errors: errors, payload: Array(buffer: message.payload),
                    receivedAt: receivedAt)
            } else {
                DeadLetter(topic: "", errors: errors, payload: Array(refused.line.utf8), receivedAt: receivedAt)
            }
        letter.line = refused.line
        return letter
    }

    private func publish(_ letter: DeadLetter) async -> Bool {
        do {
            try await client.publish(
                topic: deadLetterTopic, payload: ByteBuffer(bytes: letter.encoded()), qos: .atLeastOnce,
                timeout: .seconds(5))
            metrics.deadLettersPublished.increment()
            metrics.refusedDeadLetters.increment()
            return true
        } catch {
            metrics.deadLettersFailed.increment()
            logger.error(
                "dead letter of a refused line not published",
                metadata: ["topic": "\(letter.topic)", "line": "\(letter.line ?? "")", "error": "\(error)"])
            return false
        }
    }

    private func updateGauges(_ state: RefusalWindow.State) {
        metrics.influxRefusing.set(Int64(state.refusing ? 1 : 0))
        metrics.linesRefusedRecently.set(Int64(state.recentLines))
    }
}

/// Whether InfluxDB is refusing lines as a matter of course rather than now and then: refusing
/// while at least `threshold` lines were refused within the last `span` (10 in 60 s by
/// default). One bad value does not flap readiness; a series limit or a sender with the wrong
/// field type keeps it degraded until a minute after the refusals stop.
struct RefusalWindow: Sendable {
    /// What `/health/ready` shows.
    struct State: Sendable, Equatable {
        var refusing: Bool
        var recentLines: Int
        var lastReason: String?
        /// Wall-clock nanoseconds of the last refusal.
        var lastAt: Int64?
    }

    var span: Duration = .seconds(60)
    var threshold = 10
    /// Refusals (one entry per refused write) within `span`, oldest first.
    private var recent: [(at: ContinuousClock.Instant, lines: Int)] = []
    private var lastReason: String?
    private var lastAt: Int64?

    init(span: Duration = .seconds(60), threshold: Int = 10) {
        self.span = span
        self.threshold = threshold
    }

    mutating func record(lines: Int, reason: String, at instant: ContinuousClock.Instant, wallTime: Int64) {
        recent.append((instant, lines))
        lastReason = reason
        lastAt = wallTime
    }

    mutating func state(at instant: ContinuousClock.Instant) -> State {
        let expired = recent.prefix { instant - $0.at > span }.count
        if expired > 0 { recent.removeFirst(expired) }
        let lines = recent.reduce(0) { $0 + $1.lines }
        return State(refusing: lines >= threshold, recentLines: lines, lastReason: lastReason, lastAt: lastAt)
    }
}
