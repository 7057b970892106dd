import Influx
import Logging
import MQTT
import ServiceLifecycle

/// Runs the InfluxDB batch writer; on shutdown it writes what is pending (or leaves it
/// unacknowledged for the broker to redeliver) before the MQTT connection closes.
struct WriterService: Service {
    let writer: BatchWriter<MQTTMessage>
    let logger: Logger

    func run() async throws {
        await withGracefulShutdownHandler {
            await writer.run()
        } onGracefulShutdown: {
            Task { await writer.finish() }
        }
        logger.info("batch writer stopped")
    }
}
