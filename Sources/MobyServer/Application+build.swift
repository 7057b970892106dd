import AsyncHTTPClient
import Hummingbird
import Influx
import Logging
import MQTT
import MobyCore
import NIOCore
import ServiceLifecycle

/// The request context of every route; the one place where HTTP authentication will go.
public typealias MobyRequestContext = BasicRequestContext

/// Builds the whole server: MQTT connection, ingest, InfluxDB writer and the HTTP API, as
/// services of one application. Shutdown order is the reverse of `services`: HTTP stops, ingest
/// stops taking messages, the writer stores and acknowledges what it holds, then MQTT
/// disconnects.
public func buildApplication(
    configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics = ServerMetrics()
) throws -> some ApplicationProtocol {
    var mqttConfiguration = try MQTTConfiguration(url: configuration.mqttURL, clientID: configuration.mqttClientID)
    mqttConfiguration.cleanSession = false
    let client = MQTTClient(configuration: mqttConfiguration, logger: logger)
    let influx = InfluxClient(configuration: configuration.influx)
    let store = ReadingStore(client: influx, logger: logger)
    let decoder = ReadingDecoder()
    let writer = try ReadingWriter.make(
        configuration: configuration, store: store, client: client, metrics: metrics, logger: logger)

    let status = IngestStatus()
    let router = Router(context: MobyRequestContext.self)
    router.addRoutes(HealthController(client: client, influx: influx, writer: writer, status: status).routes)
    router.addRoutes(PublishController(client: client, decoder: decoder, metrics: metrics).routes)
    router.addRoutes(MetricsController(metrics: metrics).routes)

    var app = Application(
        router: router,
        configuration: .init(
            address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "moby"),
        logger: logger)
    app.addServices(
        BrokerConnectionService(client: client, metrics: metrics, logger: logger),
        WriterService(writer: writer, logger: logger),
        IngestService(
            client: client, writer: writer, decoder: decoder, topicFilter: configuration.mqttTopic,
            deadLetterTopic: configuration.deadLetterTopic,
            retention: InfluxDuration.nanoseconds(configuration.influx.retentionDuration), metrics: metrics,
            status: status, logger: logger))
    return app
}
