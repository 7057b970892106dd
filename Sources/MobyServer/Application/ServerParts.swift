import Foundation
import GRDB
import Influx
import Logging
import MQTT
import MobyCore

/// Every part of the server, built and opened once at start: the MQTT and InfluxDB clients (not
/// connected yet), the writer with its spool, the alert store with its open alerts loaded, the
/// fleet. `buildRouter` needs only these, so the HTTP API can be tested in-process without a
/// broker or InfluxDB; `buildApplication` adds the services that connect and run them.
struct ServerParts: Sendable {
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let client: MQTTClient
    /// Where the MQTT connection, the InfluxDB writes, ingest and the writer run.
    let ingestLoop: IngestLoop
    let influx: InfluxClient
    let readingCheck: ReadingCheck
    let refusals: RefusedReadings
    let writer: BatchWriter<MQTTMessage>
    /// InfluxDB as the writer sees it (database, tiers).
    let readingStore: ReadingStore
    let alertStore: SQLiteAlertStore
    let feed: AlertFeed
    let relay: AlertRelay
    let center: AlertCenter
    let fleet: FleetState
    /// The device registry on disk.
    let registry: DeviceStore
    let status: IngestStatus
    let console: ConsoleBundle
    /// Who may do what (users, tokens and sessions in the same database).
    let access: AccessPolicy
    /// The API's OpenAPI document, read at start.
    let openAPI: OpenAPIController<MobyRequestContext>

    /// Builds the parts and does the I/O of a start: opens the spool (checking every record),
    /// creates the data folder, opens SQLite (migrating it) and loads the open alerts. Any
    /// failure is a `ConfigurationError` saying what could not be opened.
    static func open(configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics) async throws
        -> ServerParts
    {
        let ingestLoop = IngestLoop()
        let client = MQTTClient(configuration: configuration.mqtt, eventLoopGroup: ingestLoop.eventLoop, logger: logger)
        let influx = InfluxClient(configuration: configuration.influx, writeEventLoop: ingestLoop.eventLoop)
        let store = ReadingStore(client: influx, logger: logger)
        let refusals = RefusedReadings(
            client: client, deadLetterTopic: configuration.deadLetterTopic, metrics: metrics, logger: logger)
        let writer = try ReadingWriter.make(
            configuration: configuration, store: store, client: client, refusals: refusals, metrics: metrics,
            logger: logger)
        let alertStore: SQLiteAlertStore
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.dataDirectory, withIntermediateDirectories: true)
            alertStore = try SQLiteAlertStore(path: configuration.alertDatabasePath)
        } catch {
            throw ConfigurationError("cannot open the alert database \(configuration.alertDatabasePath): \(error)")
        }
        let feed = AlertFeed(bufferLimit: configuration.webSocketBuffer)
        let relay = AlertRelay(
            client: client, writer: writer, topic: configuration.alertTopic, metrics: metrics, logger: logger)
        let center = AlertCenter(
            store: alertStore, catalog: configuration.catalog, feed: feed, autoResolve: configuration.autoResolve,
            updateInterval: configuration.alertUpdateInterval, logger: logger,
            rewriter: configuration.summaryEndpoint.map {
                SummaryRewriter(endpoint: $0, metrics: metrics, logger: logger)
            },
            metrics: metrics,
            outlet: relay.send)
        let fleet = FleetState(
            rules: configuration.hysteresis, maxDevices: configuration.maxDevices, catalog: configuration.catalog,
            maxTagValues: configuration.maxTagValues)
        metrics.devicesLimit.set(Int64(configuration.maxDevices))
        let registry = DeviceStore(pool: alertStore.pool, fleet: fleet, logger: logger)
        do {
            let entries = try await registry.load()
            // A profile that left the catalog: the device falls back to the default, and says so.
            let profiles = Set(configuration.catalog.profileNames)
            fleet.load(
                entries.map { entry in
                    guard !profiles.contains(entry.meta.profile) else { return entry }
                    logger.warning(
                        "device profile not in the catalog; using default",
                        metadata: ["device": "\(entry.id)", "profile": "\(entry.meta.profile)"])
                    var entry = entry
                    entry.meta.profile = SensorCatalog.defaultProfile
                    return entry
                })
        } catch {
            throw ConfigurationError("cannot read the device registry in \(configuration.alertDatabasePath): \(error)")
        }
        fleet.resume(try await center.start())
        let access = try await openAccess(configuration, pool: alertStore.pool, logger: logger)
        return ServerParts(
            configuration: configuration, metrics: metrics, client: client, ingestLoop: ingestLoop, influx: influx,
            readingCheck: ReadingCheck(
                decoder: ReadingDecoder(catalog: configuration.catalog),
                retention: configuration.influx.retention.nanoseconds),
            refusals: refusals, writer: writer, readingStore: store, alertStore: alertStore, feed: feed, relay: relay,
            center: center,
            fleet: fleet, registry: registry, status: IngestStatus(),
            console: openConsole(configuration, logger: logger), access: access,
            openAPI: .load(installed: InstalledFiles(), logger: logger))
    }

    /// The access policy from the settings; says at start how the API is guarded, loudly when
    /// it is not, and how to create the first credential when there is none.
    private static func openAccess(_ configuration: ServerConfiguration, pool: DatabasePool, logger: Logger)
        async throws -> AccessPolicy
    {
        let settings = configuration.access
        let credentials = settings.enabled ? CredentialStore(pool: pool) : nil
        if let credentials {
            if try await credentials.isEmpty() {
                logger.warning(
                    "no users or tokens yet: nobody can use the API until one is created, e.g. moby-server users add admin --role admin --password-stdin (with the same MOBY_DATA_DIR)"
                )
            }
            logger.notice(
                "authentication on",
                metadata: [
                    "monitoring": "\(settings.openMonitoring ? "open" : "needs credentials")",
                    "publish_rate": "\(settings.publishRate)/s per credential",
                ])
        } else {
            logger.critical(
                "AUTHENTICATION IS OFF (MOBY_AUTH=off): anyone who can reach this server can read everything, acknowledge and resolve alerts and publish readings for any device. For local experiments only."
            )
        }
        let rate = Double(settings.publishRate)
        return AccessPolicy(
            credentials: credentials, openMonitoring: settings.openMonitoring || !settings.enabled,
            sessionLifetime: settings.sessionLifetime,
            logins: LoginLimit(
                attemptsPerMinute: settings.loginAttemptsPerMinute, maxChecks: PasswordHash.maxChecksAtOnce),
            publishes: RateLimit(rate: rate, burst: rate * 2), secureCookies: settings.secureCookies)
    }

    /// Checks the console bundle and says at start what `/` will serve.
    private static func openConsole(_ configuration: ServerConfiguration, logger: Logger) -> ConsoleBundle {
        let directory = configuration.webDirectory
        let sources = URL(fileURLWithPath: directory).deletingLastPathComponent().appendingPathComponent("src").path
        let bundle = ConsoleBundle(
            directory: directory, sources: FileManager.default.fileExists(atPath: sources) ? sources : nil)
        let address =
            "\(configuration.httpsFiles == nil ? "http" : "https")://\(configuration.httpHost):\(configuration.httpPort)/"
        switch bundle.state {
        case .ready(let builtAt, let sourceHash, let stale):
            logger.notice(
                "operator console at \(address)",
                metadata: ["from": "\(directory)", "built_at": "\(builtAt)", "source_hash": "\(sourceHash.prefix(12))"])
            if let stale {
                logger.warning(
                    "the operator console bundle is older than its sources; run web/build to serve the current console",
                    metadata: ["changed": "\(stale)", "bundle": "\(directory)"])
            }
        case .missing(let reason):
            logger.warning("no operator console: \(reason); \(address) answers 503 until it is built")
        }
        return bundle
    }
}
