import Influx
import Logging
import MQTT
import MobyCore
import NIOCore
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Consumes sensor messages from the broker: each becomes a scored reading in the next InfluxDB
/// batch, or a dead letter with its reasons. Changes to a device's anomaly episode go to the
/// alert center. Nothing is acknowledged here; the batch writer acknowledges each message once
/// its batch is stored, in arrival order.
struct IngestService: Service {
    let client: MQTTClient
    let writer: BatchWriter<MQTTMessage>
    let decoder: ReadingDecoder
    let scorer: AnomalyScorer
    let fleet: FleetState
    /// Episode changes for the alert center; finished when ingest stops.
    let signals: AsyncStream<AnomalySignal>.Continuation
    let topicFilter: String
    let deadLetterTopic: String
    /// Readings older than this (ns) would be dropped by InfluxDB's retention policy; nil: kept forever.
    let retention: Int64?
    let metrics: ServerMetrics
    let status: IngestStatus
    let logger: Logger

    /// Messages taken from the client at once: one suspension, one writer call and one fleet
    /// update per run instead of per message. At most 1,024, and never more than a batch.
    let maxRun: Int

    func run() async throws {
        defer { signals.finish() }
        try await subscribe()
        for await run in client.messages.runs(upTo: maxRun).cancelOnGracefulShutdown() {
            await ingest(run)
        }
        logger.info("ingest stopped")
    }

    /// Subscribes (QoS 2, so QoS 2 publishers get exactly-once hand-over), retrying until the
    /// broker accepts; the client re-subscribes by itself after reconnects.
    private func subscribe() async throws {
        var attempt = 0
        while true {
            do {
                let granted = try await client.subscribe([(topicFilter, .exactlyOnce)])
                logger.info("subscribed", metadata: ["filter": "\(topicFilter)", "granted_qos": "\(granted)"])
                status.markSubscribed()
                return
            } catch {
                attempt += 1
                if Task.isCancelled || Task.isShuttingDownGracefully { throw CancellationError() }
                logger.warning(
                    "subscribe failed, retrying",
                    metadata: ["filter": "\(topicFilter)", "error": "\(error)", "attempt": "\(attempt)"])
                try await Task.sleep(for: .milliseconds(min(5_000, 100 * attempt)))
            }
        }
    }

    /// Decodes, scores and encodes a run of messages, then hands the lines and every message (the
    /// rejected ones too, after their dead letters are out) to the writer, in arrival order.
    private func ingest(_ messages: [MQTTMessage]) async {
        metrics.messagesReceived.increment(by: Int64(messages.count))
        let receivedAt = WallClock.nanoseconds()
        var lines = ByteBuffer()
        lines.reserveCapacity(messages.count * 256)
        var count = 0
        var observations: [FleetState.Observation] = []
        observations.reserveCapacity(messages.count)
        var rejections: [(MQTTMessage, ReadingRejection)] = []
        // Positions of the messages without a line, so the writer knows each line's message.
        var withoutLine: [Int] = []
        for (position, message) in messages.enumerated() {
            switch check(message, receivedAt: receivedAt) {
            case .success(let reading):
                let (score, severity) = scorer.score(reading)
                do {
                    try reading.writeLine(anomalyScore: score, into: &lines)
                } catch {
                    rejections.append((message, ReadingRejection(field: "payload", error.description)))
                    withoutLine.append(position)
                    continue
                }
                count += 1
                observations.append(FleetState.Observation(reading: reading, score: score, severity: severity))
            case .failure(let rejection):
                rejections.append((message, rejection))
                withoutLine.append(position)
            }
        }
        for change in fleet.observe(observations, receivedAt: receivedAt) {
            let reading = change.observation.reading
            signals.yield(
                AnomalySignal(
                    deviceID: reading.deviceID, change: change.change, severity: change.severity,
                    assessment: scorer.assess(reading), readingAt: reading.timestamp, receivedAt: receivedAt))
        }
        // Dead letters go out in arrival order, each acknowledged by the broker, before any
        // message of the run may be acknowledged.
        for (message, rejection) in rejections { await reject(message, rejection, receivedAt: receivedAt) }
        await writer.append(encoded: lines, lines: count, receipts: messages, withoutLine: withoutLine)
    }

    /// The reading in `message`, or why it is refused.
    private func check(_ message: MQTTMessage, receivedAt: Int64) -> Result<Reading, ReadingRejection> {
        guard case .some(let topicDevice) = ReadingTopic.deviceID(inTopic: message.topic) else {
            return .failure(
                ReadingRejection(field: "topic", "'\(message.topic)' is not \(ReadingTopic.base)[/<device_id>]"))
        }
        let result = message.payload.withUnsafeReadableBytes {
            decoder.decode($0, topicDeviceID: topicDevice, receivedAt: receivedAt)
        }
        if case .success(let reading) = result, let retention, reading.timestamp < receivedAt - retention {
            return .failure(
                ReadingRejection(
                    field: "timestamp",
                    "\(RFC3339.format(reading.timestamp)) is older than the retention period; InfluxDB would drop it"))
        }
        return result
    }

    private func reject(_ message: MQTTMessage, _ rejection: ReadingRejection, receivedAt: Int64) async {
        metrics.messagesRejected.increment()
        logger.warning(
            "message rejected",
            metadata: [
                "topic": "\(message.topic)", "reason": "\(rejection)", "bytes": "\(message.payload.readableBytes)",
            ])
        let letter = DeadLetter(
            topic: message.topic, errors: rejection.errors, payload: Array(buffer: message.payload),
            receivedAt: receivedAt)
        do {
            try await client.publish(
                topic: deadLetterTopic, payload: ByteBuffer(bytes: letter.encoded()), qos: .atLeastOnce,
                timeout: .seconds(5))
            metrics.deadLettersPublished.increment()
        } catch {
            metrics.deadLettersFailed.increment()
            logger.error("dead letter not published", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }
}
