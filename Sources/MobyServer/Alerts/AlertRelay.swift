import Influx
import Logging
import MQTT
import MobyCore

/// Passes each alert event on to the other consumers: InfluxDB measurement `alerts` (Grafana
/// annotations and the alarm panel) and MQTT `<topic>/<device_id>` (other services and server
/// instances). Events queue here so the alert center never waits for the broker or InfluxDB.
struct AlertRelay: Sendable {
    static let measurement = "alerts"

    let client: MQTTClient
    let writer: BatchWriter<MQTTMessage>
    let topic: String
    let metrics: ServerMetrics
    let logger: Logger
    private let events: AsyncStream<(AlertEvent, Alert)>
    private let continuation: AsyncStream<(AlertEvent, Alert)>.Continuation

    init(client: MQTTClient, writer: BatchWriter<MQTTMessage>, topic: String, metrics: ServerMetrics, logger: Logger) {
        self.client = client
        self.writer = writer
        self.topic = topic
        self.metrics = metrics
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream()
    }

    /// Queues an event (the alert center's outlet).
    func send(_ event: AlertEvent, _ alert: Alert) {
        continuation.yield((event, alert))
    }

    /// Ends the queue; `run()` returns once it has passed on what was queued.
    func finish() { continuation.finish() }

    func run() async {
        for await (event, alert) in events {
            do {
                try await writer.append(Self.point(event, alert))
            } catch {
                logger.error("alert event not written to InfluxDB", metadata: ["error": "\(error)"])
            }
            do {
                try await client.publish(
                    topic: "\(topic)/\(alert.deviceID)", payload: ByteBuffer(string: event.message), qos: .atLeastOnce,
                    timeout: .seconds(10))
                metrics.alertEventsPublished.increment()
            } catch {
                metrics.alertEventsUnpublished.increment()
                logger.error(
                    "alert event not published to MQTT",
                    metadata: ["seq": "\(event.sequence)", "topic": "\(topic)/\(alert.deviceID)", "error": "\(error)"])
            }
        }
    }

    /// `alerts,device_id=…,rule=…,severity=…,status=… alert_id=…i,event="alert.raised",score=…,…`
    static func point(_ event: AlertEvent, _ alert: Alert) -> Point {
        Point(
            measurement: measurement,
            tags: [
                (key: "device_id", value: alert.deviceID), (key: "rule", value: alert.rule),
                (key: "severity", value: alert.severity.rawValue), (key: "status", value: alert.status.rawValue),
            ],
            fields: [
                (key: "alert_id", value: .integer(alert.id)), (key: "seq", value: .integer(event.sequence)),
                (key: "event", value: .string(event.type.rawValue)), (key: "score", value: .float(alert.score)),
                (key: "peak_score", value: .float(alert.peakScore)),
                (key: "reading_count", value: .integer(Int64(alert.readingCount))),
                (key: "summary", value: .string(alert.summary)),
            ],
            timestamp: event.at)
    }
}
