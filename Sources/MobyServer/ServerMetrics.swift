import Prometheus

/// The counters and gauges `/metrics` exposes (Prometheus text format). Kept in one registry
/// per server instance so tests can build several apps in one process.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let messagesReceived: Counter
    let readingsStored: Counter
    let messagesRejected: Counter
    let linesRefusedByInflux: Counter
    let batchesWritten: Counter
    let writeRetries: Counter
    let deadLettersPublished: Counter
    let deadLettersFailed: Counter
    let mqttConnects: Counter
    let publishRequests: Counter
    let batchLines: ValueHistogram
    let batchDuration: DurationHistogram

    public init() {
        messagesReceived = registry.makeCounter(
            name: "moby_mqtt_messages_received_total", help: "MQTT messages received on the readings topics")
        readingsStored = registry.makeCounter(
            name: "moby_readings_stored_total", help: "Readings InfluxDB accepted (acknowledged to the broker)")
        messagesRejected = registry.makeCounter(
            name: "moby_messages_rejected_total", help: "Messages refused by validation (sent to the dead-letter topic)"
        )
        linesRefusedByInflux = registry.makeCounter(
            name: "moby_influx_lines_refused_total", help: "Lines InfluxDB refused in partial writes")
        batchesWritten = registry.makeCounter(name: "moby_influx_batches_total", help: "Batches written to InfluxDB")
        writeRetries = registry.makeCounter(
            name: "moby_influx_write_retries_total", help: "InfluxDB write attempts that failed and were retried")
        deadLettersPublished = registry.makeCounter(
            name: "moby_dead_letters_published_total", help: "Dead letters published")
        deadLettersFailed = registry.makeCounter(
            name: "moby_dead_letters_failed_total", help: "Dead letters that could not be published (logged only)")
        mqttConnects = registry.makeCounter(name: "moby_mqtt_connects_total", help: "Successful MQTT connections")
        publishRequests = registry.makeCounter(
            name: "moby_http_publish_total", help: "Readings accepted by POST /publish")
        batchLines = registry.makeValueHistogram(
            name: "moby_influx_batch_lines", buckets: [1, 10, 100, 500, 1000, 2000, 5000, 10000],
            help: "Readings per InfluxDB write")
        batchDuration = registry.makeDurationHistogram(
            name: "moby_influx_write_seconds",
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100),
                .milliseconds(500), .seconds(1), .seconds(5),
            ],
            help: "Time from a batch's first attempt to InfluxDB accepting it")
    }
}
