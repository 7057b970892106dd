import Influx
import Logging
import MQTT
import Spool

/// The batch writer as the server uses it: readings to InfluxDB (or the spool), and for every
/// durable batch the MQTT acknowledgements, metrics and logs.
enum ReadingWriter {
    static func make(
        configuration: ServerConfiguration, store: ReadingStore, client: MQTTClient, refusals: RefusedReadings,
        metrics: ServerMetrics, logger: Logger
    ) throws -> BatchWriter<MQTTMessage> {
        let spool: Spool
        do {
            spool = try Spool(directory: configuration.spoolDirectory, maxBytes: configuration.spoolMaxBytes)
        } catch {
            throw ConfigurationError("cannot open the spool in \(configuration.spoolDirectory): \(error)")
        }
        for note in spool.recoveryNotes { logger.error("spool recovery", metadata: ["note": "\(note)"]) }
        let depth = spool.depth
        if depth.records > 0 {
            logger.notice(
                "spool holds readings from before; replaying them",
                metadata: ["readings": "\(depth.lines)", "bytes": "\(depth.bytes)"])
        }
        metrics.spoolReadings.set(Int64(depth.lines))
        metrics.spoolBytes.set(depth.bytes)
        return BatchWriter<MQTTMessage>(
            options: .init(maxLines: configuration.batchMaxLines, linger: configuration.batchLinger),
            spool: spool,
            sink: { body throws(InfluxError) in try await store.write(body) },
            onRefused: { lines in await refusals.deadLetter(lines) },
            onCommit: { commit in
                client.acknowledge(contentsOf: commit.receipts)
                record(commit, spool: spool, metrics: metrics, logger: logger)
            },
            onEvent: { event in record(event, metrics: metrics, logger: logger) })
    }

    private static func record(
        _ commit: BatchWriter<MQTTMessage>.Commit, spool: Spool, metrics: ServerMetrics, logger: Logger
    ) {
        metrics.batchesWritten.increment()
        metrics.batchLines.record(Double(commit.lines))
        metrics.batchDuration.record(commit.duration)
        if commit.spooled {
            metrics.readingsSpooled.increment(by: Int64(commit.spooledLines))
            let depth = spool.depth
            metrics.spoolReadings.set(Int64(depth.lines))
            metrics.spoolBytes.set(depth.bytes)
        }
        // Refused lines were counted and dead-lettered by `RefusedReadings`.
        let refusedReadings = commit.refused.count(where: { $0.receipt != nil })
        let stored = commit.lines - commit.unreceiptedLines - refusedReadings - commit.spooledLines
        metrics.readingsStored.increment(by: Int64(max(0, stored)))
    }

    private static func record(_ event: BatchWriter<MQTTMessage>.Event, metrics: ServerMetrics, logger: Logger) {
        switch event {
        case .writeFailed(let error, let attempt):
            metrics.writeRetries.increment()
            logger.warning("InfluxDB write failed", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
        case .spoolRefused(let error, let delay):
            metrics.spoolErrors.increment()
            logger.error(
                "spool cannot take the batch; holding acknowledgements",
                metadata: ["error": "\(error)", "retry_in": "\(delay)"])
        case .spoolReplayFailed(let error, let delay):
            metrics.spoolErrors.increment()
            logger.error(
                "spool replay failed; trying again", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
        case .replayed(let lines, let remaining):
            metrics.readingsReplayed.increment(by: Int64(lines))
            metrics.readingsStored.increment(by: Int64(lines))
            metrics.spoolReadings.set(Int64(remaining.lines))
            metrics.spoolBytes.set(remaining.bytes)
            if remaining.records == 0 { logger.notice("spool drained") }
        case .refusalIsolated(let lines, let refused, let requests):
            logger.warning(
                "InfluxDB refused lines of a write; isolated them",
                metadata: ["lines": "\(lines)", "refused": "\(refused)", "requests": "\(requests)"])
        }
    }
}
