import Logging
import MQTT
import ServiceLifecycle

/// Keeps the MQTT connection up for the server's lifetime, counting and logging every
/// connection change and showing the link's state as a gauge; on shutdown (it is the last
/// service to stop, after the writer has acknowledged what it stored) it disconnects cleanly.
struct BrokerConnectionService: Service {
    let client: MQTTClient
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        let events = client.connectionEvents()
        let watcher = Task {
            for await event in events {
                switch event {
                case .connected(let sessionPresent):
                    metrics.mqttConnects.increment()
                    metrics.mqttConnected.set(Int64(client.isConnected ? 1 : 0))
                    logger.info("MQTT connected", metadata: ["session_present": "\(sessionPresent)"])
                case .disconnected(let reason):
                    metrics.mqttDisconnects.increment()
                    metrics.mqttConnected.set(Int64(client.isConnected ? 1 : 0))
                    if reason == .keepAliveTimeout { metrics.mqttKeepAliveTimeouts.increment() }
                    logger.warning("MQTT connection lost", metadata: ["reason": "\(reason)"])
                }
            }
        }
        defer { watcher.cancel() }
        try await runUntilGracefulShutdown(client.run) { await client.disconnect() }
        logger.info("MQTT client stopped")
    }
}
