import Backoff
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
    let loop: IngestLoop
    let writer: BatchWriter<MQTTMessage>
    let readingCheck: ReadingCheck
    let fleet: FleetState
    /// Where new and changed registry entries are stored.
    let registry: DeviceStore
    /// Episode changes for the alert center; finished when ingest stops.
    let signals: AsyncStream<AnomalySignal>.Continuation
    let topicFilter: String
    let deadLetterTopic: String
    let metrics: ServerMetrics
    let status: IngestStatus
    let logger: Logger

    /// Messages taken from the client at once: one suspension, one writer call and one fleet
    /// update per run instead of per message. At most 1,024, and never more than a batch.
    let maxRun: Int

    func run() async throws {
        defer { signals.finish() }
        do {
            // With the broker unreachable the SUBACK never comes; shutdown must not wait for it.
            try await cancelWhenGracefulShutdown { try await subscribe() }
        } catch  where Task.isShuttingDownGracefully {
            logger.info("ingest stopped before the subscription was in place")
            return
        }
        // On shutdown the loop ends after the run in hand (which is ingested whole); what is
        // still buffered stays unacknowledged for the broker to redeliver.
        let messages = client.messages
        await loop.run {
            await withGracefulShutdownHandler {
                for await run in messages.runs(upTo: maxRun) { await ingest(run) }
            } onGracefulShutdown: {
                messages.stopDelivering()
            }
        }
        logger.info("ingest stopped")
    }

    static let subscribeBackoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))

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
                try await Task.sleep(for: Self.subscribeBackoff.delay(attempt: attempt))
            }
        }
    }

    /// Decodes, scores and encodes a run of messages, then hands the lines and every message (the
    /// rejected ones too, after their dead letters are out) to the writer, in arrival order.
    private func ingest(_ messages: [MQTTMessage]) async {
        metrics.messagesReceived.increment(by: Int64(messages.count))
        let receivedAt = WallClock.nanoseconds()
        var observations: [FleetState.Observation] = []
        observations.reserveCapacity(messages.count)
        var rejections: [(position: Int, rejection: ReadingRejection)] = []
        for (position, message) in messages.enumerated() {
            switch check(message, receivedAt: receivedAt) {
            case .success(var reading):
                let stamp = ReadingStamp.disambiguate(&reading, receivedAt: receivedAt, position: position)
                observations.append(
                    FleetState.Observation(
                        reading: reading, position: position, stamp: stamp, redelivered: message.duplicate))
            case .failure(let rejection):
                rejections.append((position, rejection))
            }
        }
        let outcome = fleet.observe(observations, receivedAt: receivedAt)
        if outcome.sharedStamps > 0 { metrics.readingsSharingTimestamp.increment(by: Int64(outcome.sharedStamps)) }
        if !outcome.registered.isEmpty { registry.save(outcome.registered) }
        for (position, refusal) in outcome.refused {
            rejections.append((position, refusal.rejection))
            switch refusal {
            case .deviceLimit: metrics.readingsRefusedDeviceLimit.increment()
            case .timestampCollision: metrics.timestampCollisions.increment()
            case .tagLimit: metrics.readingsRefusedTagLimit.increment()
            }
        }
        metrics.devicesKnown.set(Int64(fleet.count))
        var lines = ByteBuffer()
        lines.reserveCapacity(outcome.taken.count * 256)
        var count = 0
        for observation in outcome.taken {
            do {
                try observation.reading.writeLine(anomalyScore: observation.score, tags: observation.tags, into: &lines)
                count += 1
            } catch {
                rejections.append((observation.position, ReadingRejection(field: "payload", error.description)))
            }
        }
        for change in outcome.changes {
            let reading = change.observation.reading
            let profile = change.observation.profileIndex
            signals.yield(
                AnomalySignal(
                    deviceID: reading.deviceID, change: change.change, severity: change.severity,
                    assessment: fleet.scorers[profile].assess(reading), profile: fleet.profiles[profile].profileName,
                    readingAt: change.observation.stamp?.sensorTimestamp ?? reading.timestamp, receivedAt: receivedAt,
                    openingReadings: change.run, raiseAfter: fleet.rules.raiseAfter))
        }
        // Dead letters go out (each acknowledged by the broker) before any message of the run
        // may be acknowledged. A message whose dead letter could not be
        // published is not acknowledged at all: the broker redelivers it to the next session.
        rejections.sort { $0.position < $1.position }
        var receipts = messages
        var withoutLine: [Int] = []
        withoutLine.reserveCapacity(rejections.count)
        // All dead letters of the run go out at once, in order, and are awaited together: one
        // after the other, each would wait for its PUBACK (up to a read-gathering interval), and a
        // flood of bad messages would stall ingest.
        let published = await deadLetter(
            rejections.map { (messages[$0.position], $0.rejection) }, receivedAt: receivedAt)
        var dropped = 0
        for ((position, _), ok) in zip(rejections, published) {
            if ok {
                withoutLine.append(position - dropped)
            } else {
                receipts.remove(at: position - dropped)
                dropped += 1
            }
        }
        // The positions of the messages without a line, so the writer knows each line's message.
        await writer.append(encoded: lines, lines: count, receipts: receipts, withoutLine: withoutLine)
    }

    /// The reading in `message`, or why it is refused.
    private func check(_ message: MQTTMessage, receivedAt: Int64) -> Result<Reading, ReadingRejection> {
        if let refusal = message.refusal {
            // Refused by the MQTT client (too large, unusable topic): dead-lettered, then acknowledged.
            return .failure(
                ReadingRejection(
                    refusal.problems.map {
                        if case .invalidTopic = $0 {
                            FieldError(field: "topic", message: $0.description)
                        } else {
                            FieldError(field: "payload", message: $0.description)
                        }
                    }))
        }
        guard case .some(let topicDevice) = ReadingTopic.deviceID(inTopic: message.topic) else {
            return .failure(
                ReadingRejection(field: "topic", "'\(message.topic)' is not \(ReadingTopic.base)[/<device_id>]"))
        }
        return message.payload.withUnsafeReadableBytes {
            readingCheck.check($0, topicDeviceID: topicDevice, receivedAt: receivedAt)
        }
    }

    /// Counts, logs and dead-letters each message, in order; for each, false when its dead letter
    /// could not be published (the message must then stay unacknowledged).
    private func deadLetter(_ rejected: [(MQTTMessage, ReadingRejection)], receivedAt: Int64) async -> [Bool] {
        guard !rejected.isEmpty else { return [] }
        let letters = rejected.map { message, rejection in
            metrics.messagesRejected.increment()
            if message.refusal != nil { metrics.mqttMessagesRefused.increment() }
            let size = message.refusal?.payloadSize ?? message.payload.readableBytes
            logger.warning(
                "message rejected",
                metadata: ["topic": "\(message.topic)", "reason": "\(rejection)", "bytes": "\(size)"])
            let letter = DeadLetter(
                topic: message.topic, errors: rejection.errors, payload: Array(buffer: message.payload),
                payloadSize: size, receivedAt: receivedAt)
            return MQTTOutgoingMessage(topic: deadLetterTopic, payload: ByteBuffer(bytes: letter.encoded()))
        }
        let outcomes = await client.publishEach(contentsOf: letters, qos: .atLeastOnce, timeout: .seconds(5))
        return zip(rejected, outcomes).map { rejected, failure in
            guard let failure else {
                metrics.deadLettersPublished.increment()
                return true
            }
            metrics.deadLettersFailed.increment()
            logger.error(
                "dead letter not published or not confirmed; the message stays unacknowledged for the broker to redeliver",
                metadata: ["topic": "\(rejected.0.topic)", "error": "\(failure)"])
            return false
        }
    }
}
