import Influx
import Logging
import NIOCore
import Synchronization

/// Where batches of readings go: InfluxDB, with the database and retention policy created
/// before the first write and again if they disappear (a write to a missing database is held
/// and retried, never acknowledged).
final class ReadingStore: Sendable {
    let client: InfluxClient
    private let databaseReady = Mutex(false)
    private let logger: Logger

    init(client: InfluxClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    func write(_ body: ByteBuffer) async throws(InfluxError) {
        if !databaseReady.withLock({ $0 }) {
            try await client.ensureDatabase()
            databaseReady.withLock { $0 = true }
            logger.info(
                "InfluxDB database ready",
                metadata: [
                    "database": "\(client.configuration.database)",
                    "retention_policy": "\(client.configuration.retentionPolicy)",
                ])
        }
        do {
            try await client.write(body)
        } catch .databaseNotFound(let message) {
            // Dropped behind our back: create it again before the retry.
            databaseReady.withLock { $0 = false }
            throw .databaseNotFound(message)
        }
    }
}
