import Backoff
import Influx
import Logging
import MobyCore
import NIOCore
import Synchronization

/// Where batches of readings go: InfluxDB, with the database and retention policy created
/// before the first write and again if they disappear (a write to a missing database is held
/// and retried, never acknowledged).
final class ReadingStore: Sendable {
    let client: InfluxClient
    private let databaseReady = Mutex(false)
    /// The schema's failure was logged (once until it works).
    private let notReadyLogged = Mutex(false)
    private let logger: Logger

    init(client: InfluxClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Creates the database, its retention policies and the continuous query at start, before
    /// any reading arrives (Grafana and the readings API find them at once), retrying while
    /// InfluxDB is away, until it worked or the task is cancelled. Writes do the same when they
    /// find it not done.
    func prepare(backoff: Backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(10))) async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                try await ensureReady()
                return
            } catch {
                attempt += 1
                if attempt == 1 {
                    logger.warning("InfluxDB database not set up yet; retrying", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: backoff.delay(attempt: attempt))
            }
        }
    }

    func write(_ body: ByteBuffer) async throws(InfluxError) {
        do {
            try await ensureReady()
        } catch {
            // Whatever InfluxDB said about the schema, it says nothing about these lines: hold
            // or spool them (a refusal here once sent every reading to the dead-letter topic).
            if !notReadyLogged.withLock({ logged in
                defer { logged = true }
                return logged
            }) {
                logger.error(
                    "InfluxDB database not set up; readings are held or spooled until it is (check the retention settings if this lasts)",
                    metadata: ["error": "\(error)"])
            }
            throw .unavailable("the database is not set up: \(error)", retryAfter: nil)
        }
        do {
            try await client.write(body)
        } catch .databaseNotFound(let message) {
            // Dropped behind our back: create it again before the retry.
            databaseReady.withLock { $0 = false }
            throw .databaseNotFound(message)
        }
    }

    private func ensureReady() async throws(InfluxError) {
        if !databaseReady.withLock({ $0 }) {
            try await client.ensureDatabase()
            let downsampling = try await client.ensureDownsampling(of: Reading.measurement)
            databaseReady.withLock { $0 = true }
            notReadyLogged.withLock { $0 = false }
            logger.info(
                "InfluxDB database ready",
                metadata: [
                    "database": "\(client.configuration.database)",
                    "retention_policy": "\(client.configuration.retentionPolicy)",
                    "retention": "\(client.configuration.retention.text)",
                    "long_term": "\(Self.describe(downsampling, client.configuration))",
                ])
            if case .replaced(let previous) = downsampling {
                logger.notice("continuous query replaced", metadata: ["previous": "\(previous)"])
            }
        }
    }

    /// The long-term tier in a few words for the start-up log.
    static func describe(_ change: InfluxClient.DownsamplingChange, _ configuration: InfluxConfiguration) -> String {
        guard let tier = configuration.downsampling else {
            return change == .dropped ? "off (continuous query dropped)" : "off"
        }
        let what = "\(tier.interval) mean/min/max kept \(tier.retention.text) in \(tier.retentionPolicy)"
        switch change {
        case .unchanged: return what
        case .created: return what + " (continuous query created)"
        case .replaced: return what + " (continuous query replaced)"
        case .dropped: return what
        case .unsupported: return "not created: the v2 API needs an InfluxDB task (docs/decisions.md)"
        }
    }
}
