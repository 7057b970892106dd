import Influx
import Logging
import MQTT
import ServiceLifecycle

/// Runs the InfluxDB batch writer; on shutdown it writes what is pending (or leaves it
/// unacknowledged for the broker to redeliver) before the MQTT connection closes.
/// The database, retention policies and continuous query are set up at start, beside it.
struct WriterService: Service {
    let writer: BatchWriter<MQTTMessage>
    let store: ReadingStore
    let loop: IngestLoop
    let logger: Logger

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await store.prepare() }
            await loop.run { await runUntilGracefulShutdown(writer.run) { await writer.finish() } }
            group.cancelAll()
        }
        logger.info("batch writer stopped")
    }
}

/// Runs `work` to its end; when graceful shutdown begins first, calls `stop` (which makes `work`
/// wind down) and still waits for `work`. Structured: no task outlives the call.
func runUntilGracefulShutdown(
    _ work: @escaping @Sendable () async throws -> Void, stop: @escaping @Sendable () async -> Void
) async rethrows {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await work()
            return true
        }
        group.addTask {
            // Throws when cancelled: `work` ended first, nothing to stop.
            guard (try? await gracefulShutdown()) != nil else { return false }
            await stop()
            return false
        }
        while let finished = try await group.next() {
            if finished {
                group.cancelAll()
                return
            }
        }
    }
}
