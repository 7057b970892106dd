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

    func run() async throws {
        defer { signals.finish() }
        try await subscribe()
        for await message in client.messages.cancelOnGracefulShutdown() {
            await ingest(message)
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

    private func ingest(_ message: MQTTMessage) async {
        metrics.messagesReceived.increment()
        let receivedAt = WallClock.nanoseconds()
        var result: Result<Reading, ReadingRejection>
        if case .some(let topicDevice) = ReadingTopic.deviceID(inTopic: message.topic) {
            result = message.payload.withUnsafeReadableBytes {
                decoder.decode($0, topicDeviceID: topicDevice, receivedAt: receivedAt)
            }
        } else {
            result = .failure(
                ReadingRejection(field: "topic", "'\(message.topic)' is not \(ReadingTopic.base)[/<device_id>]"))
        }
        if case .success(let reading) = result, let retention, reading.timestamp < receivedAt - retention {
            result = .failure(
                ReadingRejection(
                    field: "timestamp",
                    "\(RFC3339.format(reading.timestamp)) is older than the retention period; InfluxDB would drop it"))
        }
        switch result {
        case .success(let reading):
            let (score, severity) = scorer.score(reading)
            if let (change, episode) = fleet.observe(reading, score: score, severity: severity, receivedAt: receivedAt)
            {
                signals.yield(
                    AnomalySignal(
                        deviceID: reading.deviceID, change: change, severity: episode,
                        assessment: scorer.assess(reading), readingAt: reading.timestamp, receivedAt: receivedAt))
            }
            do {
                try await writer.append(reading.point(anomalyScore: score), receipt: message)
            } catch {
                await reject(message, ReadingRejection(field: "payload", error.description), receivedAt: receivedAt)
            }
        case .failure(let rejection):
            await reject(message, rejection, receivedAt: receivedAt)
        }
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
        await writer.append(receiptOnly: message)
    }
}
