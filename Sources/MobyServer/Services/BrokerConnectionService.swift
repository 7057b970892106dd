import Logging
import MQTT
import ServiceLifecycle

/// Keeps the MQTT connection up for the server's lifetime; on shutdown (it is the last service
/// to stop, after the writer has acknowledged what it stored) it disconnects cleanly.
struct BrokerConnectionService: Service {
    let client: MQTTClient
    let logger: Logger

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await client.run()
        } onGracefulShutdown: {
            Task { await client.disconnect() }
        }
        logger.info("MQTT client stopped")
    }
}
