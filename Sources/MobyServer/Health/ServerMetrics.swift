import Prometheus

/// The counters and gauges `/metrics` exposes (Prometheus text format). Kept in one registry
/// per server instance so tests can build several apps in one process.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let messagesReceived: Counter
    let readingsStored: Counter
    let messagesRejected: Counter
    let linesRefusedByInflux: Counter
    let linesRefusedUncertain: Counter
    let refusedDeadLetters: Counter
    let influxRefusing: Gauge
    let linesRefusedRecently: Gauge
    let batchesWritten: Counter
    let writeRetries: Counter
    let deadLettersPublished: Counter
    let deadLettersFailed: Counter
    let mqttConnects: Counter
    let mqttDisconnects: Counter
    let mqttConnected: Gauge
    let mqttKeepAliveTimeouts: Counter
    let mqttMessagesRefused: Counter
    let publishRequests: Counter
    /// `POST /publish` requests refused by the per-credential rate (429).
    let publishLimited: Counter
    let readingsSpooled: Counter
    let readingsReplayed: Counter
    let spoolReadings: Gauge
    let spoolBytes: Gauge
    let spoolErrors: Counter
    let alertEventsPublished: Counter
    let alertEventsUnpublished: Counter
    let webSocketClients: Gauge
    let webSocketClientsDropped: Counter
    let httpConnections: Gauge
    let httpConnectionsRefused: Counter
    let summariesRewritten: Counter
    let summariesFailed: Counter
    let summariesSkipped: Counter
    let batchLines: ValueHistogram
    let devicesKnown: Gauge
    let devicesLimit: Gauge
    let readingsRefusedDeviceLimit: Counter
    let readingsRefusedTagLimit: Counter
    let readingsSharingTimestamp: Counter
    let timestampCollisions: Counter
    let batchDuration: DurationHistogram
    let alertRaiseDuration: DurationHistogram
    /// 1 when InfluxDB answered the ping of the last scrape, else 0.
    let influxReachable: Gauge
    /// 1 while the readings subscription is confirmed by the broker, else 0.
    let mqttSubscribed: Gauge
    let process: ProcessMetrics

    public init() {
        influxReachable = registry.makeGauge(
            descriptor: .named(
                "moby_influx_reachable", helpText: "1 when InfluxDB answered a ping at this scrape, else 0"))
        readingsRefusedTagLimit = registry.makeCounter(
            descriptor: .named(
                "moby_readings_refused_tag_limit_total",
                helpText: "Readings refused because their location or line would exceed MOBY_MAX_TAG_VALUES"))
        mqttSubscribed = registry.makeGauge(
            descriptor: .named("moby_mqtt_subscribed", helpText: "1 while the readings subscription is active, else 0"))
        process = ProcessMetrics(registry: registry)
        messagesReceived = registry.makeCounter(
            descriptor: .named(
                "moby_mqtt_messages_received_total", helpText: "MQTT messages received on the readings topics"))
        readingsStored = registry.makeCounter(
            descriptor: .named(
                "moby_readings_stored_total",
                helpText: "Readings InfluxDB accepted (directly or replayed from the spool)"))
        messagesRejected = registry.makeCounter(
            descriptor: .named(
                "moby_messages_rejected_total",
                helpText: "Messages refused by validation (sent to the dead-letter topic)"))
        linesRefusedByInflux = registry.makeCounter(
            descriptor: .named(
                "moby_influx_lines_refused_total",
                helpText: "Lines InfluxDB refused for good (each sent to the dead-letter topic)"))
        linesRefusedUncertain = registry.makeCounter(
            descriptor: .named(
                "moby_influx_lines_refused_uncertain_total",
                helpText: "Refused lines the writer could not isolate within its request budget (may also be stored)"))
        refusedDeadLetters = registry.makeCounter(
            descriptor: .named(
                "moby_dead_letters_refused_lines_total",
                helpText:
                    "Dead letters published for lines InfluxDB refused (also in moby_dead_letters_published_total)"))
        influxRefusing = registry.makeGauge(
            descriptor: .named(
                "moby_influx_refusing",
                helpText: "1 while InfluxDB refuses lines as a matter of course (at least 10 in the last 60 s)"))
        linesRefusedRecently = registry.makeGauge(
            descriptor: .named(
                "moby_influx_lines_refused_recent", helpText: "Lines InfluxDB refused in the last 60 s"))
        batchesWritten = registry.makeCounter(
            descriptor: .named("moby_influx_batches_total", helpText: "Batches written to InfluxDB"))
        writeRetries = registry.makeCounter(
            descriptor: .named(
                "moby_influx_write_retries_total", helpText: "InfluxDB write attempts that failed and were retried"))
        deadLettersPublished = registry.makeCounter(
            descriptor: .named("moby_dead_letters_published_total", helpText: "Dead letters published"))
        deadLettersFailed = registry.makeCounter(
            descriptor: .named(
                "moby_dead_letters_failed_total", helpText: "Dead letters that could not be published (logged only)"))
        mqttDisconnects = registry.makeCounter(
            descriptor: .named(
                "moby_mqtt_disconnects_total", helpText: "MQTT connections lost and connection attempts that failed"))
        mqttConnects = registry.makeCounter(
            descriptor: .named("moby_mqtt_connects_total", helpText: "Successful MQTT connections"))
        mqttConnected = registry.makeGauge(
            descriptor: .named("moby_mqtt_connected", helpText: "1 while the broker connection is up, 0 otherwise"))
        mqttKeepAliveTimeouts = registry.makeCounter(
            descriptor: .named(
                "moby_mqtt_keepalive_timeouts_total",
                helpText: "Broker connections closed because a PINGREQ went unanswered (silent link)"))
        mqttMessagesRefused = registry.makeCounter(
            descriptor: .named(
                "moby_mqtt_messages_refused_total",
                helpText: "MQTT messages the client refused (too large, unusable topic); dead-lettered and acknowledged"
            ))
        publishRequests = registry.makeCounter(
            descriptor: .named("moby_http_publish_total", helpText: "Readings accepted by POST /publish"))
        publishLimited = registry.makeCounter(
            descriptor: .named(
                "moby_http_publish_limited_total",
                helpText: "POST /publish requests refused (429) because their credential went over its rate"))
        readingsSpooled = registry.makeCounter(
            descriptor: .named(
                "moby_readings_spooled_total",
                helpText: "Readings written to the disk spool while InfluxDB was unavailable"))
        readingsReplayed = registry.makeCounter(
            descriptor: .named("moby_readings_replayed_total", helpText: "Spooled readings written to InfluxDB"))
        spoolReadings = registry.makeGauge(
            descriptor: .named("moby_spool_readings", helpText: "Readings waiting in the spool"))
        spoolBytes = registry.makeGauge(descriptor: .named("moby_spool_bytes", helpText: "Bytes in the spool"))
        spoolErrors = registry.makeCounter(
            descriptor: .named(
                "moby_spool_errors_total",
                helpText: "Spool disk errors (a batch it could not take, or a replay step that failed and is retried)"))
        alertEventsPublished = registry.makeCounter(
            descriptor: .named("moby_alert_events_published_total", helpText: "Alert events published to MQTT"))
        alertEventsUnpublished = registry.makeCounter(
            descriptor: .named(
                "moby_alert_events_unpublished_total",
                helpText: "Alert events MQTT did not take (the store and WebSocket still have them)"))
        webSocketClients = registry.makeGauge(
            descriptor: .named("moby_websocket_clients", helpText: "Connected /ws alert stream clients"))
        webSocketClientsDropped = registry.makeCounter(
            descriptor: .named(
                "moby_websocket_clients_dropped_total", helpText: "/ws clients dropped for falling behind"))
        httpConnections = registry.makeGauge(
            descriptor: .named("moby_http_connections", helpText: "Open HTTP connections (including /ws)"))
        httpConnectionsRefused = registry.makeCounter(
            descriptor: .named(
                "moby_http_connections_refused_total",
                helpText: "HTTP connections refused because moby.http.max.connections were open"))
        summariesRewritten = registry.makeCounter(
            descriptor: .named("moby_llm_summaries_total", helpText: "Alert summaries rewritten by the LLM"))
        summariesFailed = registry.makeCounter(
            descriptor: .named(
                "moby_llm_summary_failures_total", helpText: "LLM rewrites that failed or timed out (template kept)"))
        summariesSkipped = registry.makeCounter(
            descriptor: .named(
                "moby_llm_summaries_skipped_total", helpText: "LLM rewrites skipped because too many were in flight"))
        devicesKnown = registry.makeGauge(
            descriptor: .named("moby_devices", helpText: "Devices the server tracks (since it started)"))
        devicesLimit = registry.makeGauge(
            descriptor: .named(
                "moby_devices_limit", helpText: "Most devices tracked; readings of further new devices are refused"))
        readingsRefusedDeviceLimit = registry.makeCounter(
            descriptor: .named(
                "moby_readings_refused_device_limit_total",
                helpText: "Readings of new devices refused because the device limit was reached (dead-lettered)"))
        readingsSharingTimestamp = registry.makeCounter(
            descriptor: .named(
                "moby_readings_shared_timestamp_total",
                helpText: "Readings stamped like another reading of their device, stored apart by a sub-ms offset"))
        timestampCollisions = registry.makeCounter(
            descriptor: .named(
                "moby_readings_timestamp_collisions_total",
                helpText: "Readings refused because another reading of the device had the same stored timestamp"))
        batchLines = registry.makeValueHistogram(
            descriptor: .named("moby_influx_batch_lines", helpText: "Readings per InfluxDB write"),
            buckets: [1, 10, 100, 500, 1000, 2000, 5000, 10000])
        alertRaiseDuration = registry.makeDurationHistogram(
            descriptor: .named(
                "moby_alert_raise_seconds",
                helpText: "From receiving the reading that opens an episode to its alert being stored and streamed"),
            buckets: [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(500),
            ])
        batchDuration = registry.makeDurationHistogram(
            descriptor: .named(
                "moby_influx_write_seconds", helpText: "Time from a batch's first attempt to InfluxDB accepting it"),
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100),
                .milliseconds(500), .seconds(1), .seconds(5),
            ])
    }
}

extension MetricNameDescriptor {
    /// A descriptor whose full name is `name` (unit already part of it, e.g. `_total`).
    static func named(_ name: String, helpText: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: helpText)
    }
}
