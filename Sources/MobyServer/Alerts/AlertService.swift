import Logging
import ServiceLifecycle

/// Runs the alert center: consumes episode changes from ingest (in order, never blocking
/// ingest), stores coalesced updates every interval and relays events to InfluxDB and MQTT.
/// On shutdown it handles what ingest already sent, relays it, then ends the WebSocket
/// subscriptions.
struct AlertService: Service {
    let center: AlertCenter
    let signals: AsyncStream<AnomalySignal>
    let relay: AlertRelay
    let feed: AlertFeed
    let flushInterval: Duration
    let logger: Logger

    func run() async throws {
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: flushInterval)
                await center.flush()
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Not cancelled on graceful shutdown: ingest finishes the stream once it stops.
                for await signal in signals { await center.handle(signal) }
                ticker.cancel()
                // Everything coalesced, not only what is due: the last updates would be lost.
                await center.flush(force: true)
                relay.finish()
            }
            group.addTask { await relay.run() }
        }
        feed.finishAll()
        logger.info("alerts stopped")
        // Ingest (shut down before us) ended the stream; returning before the group asks us to
        // stop would count as an unexpected exit and cancel the writer mid-flush.
        try await gracefulShutdown()
    }
}
