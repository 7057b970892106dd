import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import MobyCore
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Builds the whole server: its parts (opened here, at start), the router over them, and the
/// services that run them, as one application. Shutdown order is the reverse of the services:
/// HTTP stops (idle connections close at once, in-flight requests finish, anything still open
/// after `moby.shutdown.timeout.seconds` is closed), ingest stops taking messages, the alert
/// center handles what ingest sent, the writer stores and acknowledges what it holds, then MQTT
/// disconnects.
public func buildApplication(
    configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics = ServerMetrics()
) async throws -> some ApplicationProtocol {
    let parts = try await ServerParts.open(configuration: configuration, logger: logger, metrics: metrics)
    let router = buildRouter(parts)
    let (signals, signalSink) = AsyncStream<AnomalySignal>.makeStream()
    var httpLimits = configuration.http
    httpLimits.maxConnections = FileDescriptorBudget.fit(maxConnections: httpLimits.maxConnections, logger: logger)
    var server = HTTPServerBuilder.guarded(
        webSocketRouter: router, webSocket: .init(autoPing: .enabled(timePeriod: .seconds(30))),
        limits: httpLimits, metrics: metrics)
    if let https = configuration.httpsFiles {
        // TLS outside, the guard inside: limits and timeouts apply to the decrypted requests.
        server = try .tls(server, tlsConfiguration: https.configuration())
        logger.notice("serving HTTPS", metadata: ["certificate": "\(https.certificate)"])
    }
    let notifier = configuration.systemd.map { SystemdNotifier(socketPath: $0.socketPath) }
    var app = Application(
        router: router,
        server: server,
        configuration: .init(
            address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "moby"),
        onServerRunning: { channel in
            // Ready for systemd once requests are served; the broker and InfluxDB may come later
            // (/health/ready tells), as they may go away later.
            guard let notifier else { return }
            // Lost, it would get the server killed at the start timeout: a few tries.
            for attempt in 1...5 {
                do {
                    try notifier.send("READY=1\nSTATUS=serving HTTP on \(channel.localAddress.map { "\($0)" } ?? "?")")
                    return
                } catch {
                    logger.warning(
                        "systemd notification not sent",
                        metadata: ["state": "READY=1", "error": "\(error)", "attempt": "\(attempt)"])
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        },
        logger: logger)
    app.addServices(
        parts.registry,
        BrokerConnectionService(client: parts.client, metrics: metrics, logger: logger),
        WriterService(writer: parts.writer, store: parts.readingStore, loop: parts.ingestLoop, logger: logger),
        AlertService(
            center: parts.center, signals: signals, relay: parts.relay, feed: parts.feed,
            flushInterval: configuration.alertUpdateInterval
                > .zero ? configuration.alertUpdateInterval : .seconds(1), logger: logger),
        IngestService(
            client: parts.client, loop: parts.ingestLoop, writer: parts.writer, readingCheck: parts.readingCheck,
            fleet: parts.fleet, registry: parts.registry, signals: signalSink, topicFilter: configuration.mqttTopic,
            deadLetterTopic: configuration.deadLetterTopic, metrics: metrics,
            status: parts.status, logger: logger, maxRun: min(1_024, configuration.batchMaxLines)))
    if let notifier, let systemd = configuration.systemd {
        // The last of ours: told of a shutdown right after HTTP has drained (see WatchdogService).
        app.addServices(
            WatchdogService(
                notifier: notifier, interval: systemd.watchdog,
                loops: Array(MultiThreadedEventLoopGroup.singleton.makeIterator()), logger: logger))
    }
    return app
}
