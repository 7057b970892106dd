import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Influx
import Logging
import MQTT
import MobyCore
import NIOCore
import ServiceLifecycle

/// The request context of every route (HTTP and the `/ws` upgrade); the one place where HTTP
/// authentication will go.
public typealias MobyRequestContext = BasicWebSocketRequestContext

/// Builds the whole server: MQTT connection, ingest with anomaly scoring, InfluxDB writer,
/// alerts, and the HTTP and WebSocket API, as services of one application. Shutdown order is
/// the reverse of `services`: HTTP stops (idle connections close at once, in-flight requests
/// finish, anything still open after `moby.shutdown.timeout.seconds` is closed), ingest stops
/// taking messages, the alert center handles what ingest sent, the writer stores and
/// acknowledges what it holds, then MQTT disconnects.
public func buildApplication(
    configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics = ServerMetrics()
) async throws -> some ApplicationProtocol {
    let client = MQTTClient(configuration: configuration.mqtt, logger: logger)
    let influx = InfluxClient(configuration: configuration.influx)
    let store = ReadingStore(client: influx, logger: logger)
    let readingCheck = ReadingCheck(
        decoder: ReadingDecoder(catalog: configuration.catalog),
        retention: configuration.influx.retention.nanoseconds)
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
        rewriter: configuration.summaryEndpoint.map { SummaryRewriter(endpoint: $0, metrics: metrics, logger: logger) },
        metrics: metrics,
        outlet: relay.send)
    let fleet = FleetState(rules: configuration.hysteresis, maxDevices: configuration.maxDevices)
    metrics.devicesLimit.set(Int64(configuration.maxDevices))
    fleet.resume(try await center.start())
    let (signals, signalSink) = AsyncStream<AnomalySignal>.makeStream()

    let status = IngestStatus()
    let router = Router(context: MobyRequestContext.self)
    router.addRoutes(
        HealthController(client: client, influx: influx, writer: writer, status: status, refusals: refusals).routes)
    router.addRoutes(
        PublishController(client: client, readingCheck: readingCheck, fleet: fleet, metrics: metrics).routes)
    router.addRoutes(MetricsController(metrics: metrics, refusals: refusals).routes)
    router.addRoutes(AlertController(center: center, store: alertStore).routes)
    router.addRoutes(DeviceController(fleet: fleet, center: center, staleAfter: configuration.staleAfter).routes)
    router.addRoutes(ReadingsController(influx: influx).routes)
    router.addRoutes(CatalogController(catalog: configuration.catalog).routes)
    AlertStreamController(
        store: alertStore, feed: feed, heartbeat: configuration.heartbeatInterval, metrics: metrics
    ).register(on: router)

    var httpLimits = configuration.http
    httpLimits.maxConnections = FileDescriptorBudget.fit(maxConnections: httpLimits.maxConnections, logger: logger)
    var app = Application(
        router: router,
        server: .guarded(
            webSocketRouter: router, webSocket: .init(autoPing: .enabled(timePeriod: .seconds(30))),
            limits: httpLimits, metrics: metrics),
        configuration: .init(
            address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "moby"),
        logger: logger)
    app.addServices(
        BrokerConnectionService(client: client, metrics: metrics, logger: logger),
        WriterService(writer: writer, logger: logger),
        AlertService(
            center: center, signals: signals, relay: relay, feed: feed,
            flushInterval: configuration.alertUpdateInterval
                > .zero ? configuration.alertUpdateInterval : .seconds(1), logger: logger),
        IngestService(
            client: client, writer: writer, readingCheck: readingCheck,
            scorer: AnomalyScorer(catalog: configuration.catalog),
            fleet: fleet, signals: signalSink, topicFilter: configuration.mqttTopic,
            deadLetterTopic: configuration.deadLetterTopic, metrics: metrics,
            status: status, logger: logger, maxRun: min(1_024, configuration.batchMaxLines)))
    return app
}
