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
    let writerLogger = logger
    let writer = BatchWriter<MQTTMessage>(
        options: .init(maxLines: configuration.batchMaxLines, linger: configuration.batchLinger),
        sink: { body throws(InfluxError) in try await store.write(body) },
        onCommit: { commit in
            for message in commit.receipts { client.acknowledge(message) }
            var stored = commit.lines
            if let rejected = commit.rejected, case .rejected(_, let message, let badLines) = rejected {
                let refused = min(commit.lines, BadLine.droppedCount(in: message) ?? max(badLines.count, 1))
                stored = max(0, commit.lines - refused)
                metrics.linesRefusedByInflux.increment(by: Int64(refused))
                writerLogger.error(
                    "InfluxDB refused lines of a batch",
                    metadata: ["error": "\(message)", "lines": "\(badLines.map(\.line).prefix(5))"])
            }
            metrics.readingsStored.increment(by: Int64(stored))
            metrics.batchesWritten.increment()
            metrics.batchLines.record(Double(commit.lines))
            metrics.batchDuration.record(commit.duration)
        },
        onRetry: { error, attempt, delay in
            metrics.writeRetries.increment()
            writerLogger.warning(
                "InfluxDB write failed, retrying",
                metadata: ["error": "\(error)", "attempt": "\(attempt)", "delay": "\(delay)"])
        })

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
        BrokerConnectionService(client: client, logger: logger),
        WriterService(writer: writer, logger: logger),
        IngestService(
            client: client, writer: writer, decoder: decoder, topicFilter: configuration.mqttTopic,
            deadLetterTopic: configuration.deadLetterTopic,
            retention: InfluxDuration.nanoseconds(configuration.influx.retentionDuration), metrics: metrics,
            status: status, logger: logger))
    return app
}
