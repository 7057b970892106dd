import Configuration
import Foundation
import Influx
import Logging
import MQTT
import MobyCore
import NIOSSL

/// Everything moby-server can be told, with its defaults. Read once at start from a
/// `ConfigReader` (command-line flags first, then `MOBY_*` environment variables).
public struct ServerConfiguration: Sendable {
    /// One setting: its configuration key (environment variable = key upper-cased with `_`),
    /// default and help. `moby-server --help` and the README list these.
    public struct Setting: Sendable {
        public var key: String
        public var defaultValue: String
        public var help: String

        /// `MOBY_MQTT_URL` for `moby.mqtt.url`.
        public var environmentName: String { Self.environmentName(key) }

        /// The environment variable of configuration key `key`.
        public static func environmentName(_ key: String) -> String {
            key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        }
    }

    public static let settings: [Setting] = [
        Setting(
            key: "moby.mqtt.url", defaultValue: "mqtt://127.0.0.1:1883",
            help: "MQTT broker, mqtt://user:pass@host:port, or mqtts:// for TLS (port 8883 by default)"
        ),
        Setting(
            key: "moby.mqtt.password.file", defaultValue: "",
            help: "File holding the broker password (instead of putting it in the URL, where ps and logs may show it)"),
        Setting(
            key: "moby.mqtt.ca.file", defaultValue: "",
            help: "mqtts: PEM file of the CAs trusted for the broker's certificate (default: the system's)"),
        Setting(
            key: "moby.mqtt.cert.file", defaultValue: "",
            help: "mqtts: PEM client certificate presented to the broker (with moby.mqtt.key.file)"),
        Setting(key: "moby.mqtt.key.file", defaultValue: "", help: "mqtts: PEM private key of the client certificate"),
        Setting(
            key: "moby.mqtt.client.id", defaultValue: "moby-server", help: "MQTT client id of the persistent session"),
        Setting(key: "moby.mqtt.topic", defaultValue: ReadingTopic.filter, help: "Topic filter readings arrive on"),
        Setting(
            key: "moby.mqtt.dead.letter.topic", defaultValue: "factory/sensor/deadletter",
            help: "Topic rejected messages are published to, with the reason"),
        Setting(
            key: "moby.mqtt.keepalive.seconds", defaultValue: "10",
            help: "MQTT keep-alive: PINGREQ after this long without traffic either way (0 = off)"),
        Setting(
            key: "moby.mqtt.ping.timeout.seconds", defaultValue: "5",
            help: "A PINGREQ unanswered this long means the broker link is dead: reconnect, /health/ready 503"),
        Setting(key: "moby.influx.url", defaultValue: "http://127.0.0.1:8086", help: "InfluxDB base URL"),
        Setting(
            key: "moby.influx.ca.file", defaultValue: "",
            help: "https: PEM file of the CAs trusted for InfluxDB's certificate (default: the system's)"),
        Setting(key: "moby.influx.db", defaultValue: "moby", help: "InfluxDB database (v1 API)"),
        Setting(key: "moby.influx.rp", defaultValue: "raw", help: "Retention policy readings are written to"),
        Setting(
            key: "moby.influx.retention", defaultValue: "30d",
            help: "How long raw readings are kept (InfluxQL duration)"),
        Setting(
            key: "moby.influx.downsample.retention", defaultValue: "365d",
            help:
                "How long the long-term tier (per-interval mean/min/max of every reading, filled by a continuous query) is kept; off: no long-term tier"
        ),
        Setting(
            key: "moby.influx.downsample.interval", defaultValue: "1m",
            help: "One long-term point per device covers this long (InfluxQL duration, at least 1s)"),
        Setting(
            key: "moby.influx.downsample.rp", defaultValue: "long_term",
            help: "Retention policy of the long-term tier"),
        Setting(key: "moby.influx.username", defaultValue: "", help: "InfluxDB user (v1 basic auth)"),
        Setting(key: "moby.influx.password", defaultValue: "", help: "InfluxDB password (v1 basic auth)"),
        Setting(
            key: "moby.influx.org", defaultValue: "", help: "InfluxDB 2.x organisation (with bucket and token: v2 API)"),
        Setting(key: "moby.influx.bucket", defaultValue: "", help: "InfluxDB 2.x bucket"),
        Setting(key: "moby.influx.token", defaultValue: "", help: "InfluxDB 2.x API token"),
        Setting(
            key: "moby.influx.timeout.ms", defaultValue: "10000",
            help:
                "Give up on one InfluxDB request (connect and answer) after this long; the write is retried or spooled"),
        Setting(
            key: "moby.batch.max.lines", defaultValue: "5000", help: "Write a batch once it holds this many readings"),
        Setting(
            key: "moby.ingest.gather.ms", defaultValue: "12",
            help:
                "At light traffic a message waits up to this long to be handled with the next ones (fewer wake-ups and InfluxDB writes); busy traffic never waits; 0 = at once"
        ),
        Setting(
            key: "moby.batch.linger.ms", defaultValue: "0",
            help: "Max wait for more readings before writing a non-full batch (0 = group commit)"),
        Setting(
            key: "moby.spool.max.mb", defaultValue: "1024",
            help: "Disk the InfluxDB outage spool may use (MiB); when full, acknowledgements stop"),
        Setting(key: "moby.http.host", defaultValue: "127.0.0.1", help: "HTTP listen address"),
        Setting(key: "moby.http.port", defaultValue: "8080", help: "HTTP listen port"),
        Setting(
            key: "moby.http.tls.cert.file", defaultValue: "",
            help:
                "Serve HTTPS with this PEM certificate (chain) and moby.http.tls.key.file; session cookies become Secure"
        ),
        Setting(key: "moby.http.tls.key.file", defaultValue: "", help: "PEM private key of the HTTPS certificate"),
        Setting(
            key: "moby.http.idle.timeout.seconds", defaultValue: "60",
            help: "Close a keep-alive HTTP connection after this long without a request (not /ws)"),
        Setting(
            key: "moby.http.request.timeout.seconds", defaultValue: "30",
            help: "A request whose line, headers and body do not arrive within this long gets 408 and is closed"),
        Setting(
            key: "moby.http.max.connections", defaultValue: "4096",
            help: "Open HTTP and /ws connections at most; beyond it new ones get 503 and are closed"),
        Setting(
            key: "moby.http.max.connections.per.address", defaultValue: "1024",
            help:
                "Open HTTP and /ws connections from one client address at most; beyond it its new ones get 503 and are closed"
        ),
        Setting(
            key: "moby.http.max.request.line.bytes", defaultValue: "8192",
            help: "Longest request line (method, URL, version); longer ones get 414"),
        Setting(
            key: "moby.http.max.header.bytes", defaultValue: "32768",
            help: "Largest request header section; larger ones get 431"),
        Setting(
            key: "moby.shutdown.timeout.seconds", defaultValue: "10",
            help:
                "On SIGTERM, HTTP connections still open after this long are closed (in-flight requests get it to finish)"
        ),
        Setting(key: "moby.data.dir", defaultValue: "./var/data", help: "Folder for the server's own data"),
        Setting(
            key: "moby.auth", defaultValue: "on",
            help:
                "on: every API request, /ws and /publish need a token or a login session; off: anyone who reaches the server is admin (local experiments only; logged loudly)"
        ),
        Setting(
            key: "moby.auth.open.monitoring", defaultValue: "false",
            help: "true: /health/ready and /metrics answer without credentials (a private monitoring network)"),
        Setting(key: "moby.session.hours", defaultValue: "12", help: "How long a console login lasts"),
        Setting(
            key: "moby.login.attempts.per.minute", defaultValue: "5",
            help:
                "Failed logins per user name and client address per minute before 429 (burst of the same size); four times that per address"
        ),
        Setting(
            key: "moby.publish.rate", defaultValue: "200",
            help: "Readings per second one credential may send to POST /publish (bursts of twice that); beyond: 429"),
        Setting(
            key: "moby.cookie.secure", defaultValue: "false",
            help: "Mark session cookies Secure (set true when browsers reach the server over HTTPS, e.g. via a proxy)"),
        Setting(
            key: "moby.web.dir", defaultValue: "",
            help:
                "The operator console's built files (web/build), served at /; default: web/dist in the working directory, else share/moby/web beside the executable's folder, else web/dist in a folder above it"
        ),
        Setting(
            key: "moby.grafana.url", defaultValue: "",
            help: "Grafana's base URL as operators' browsers reach it; empty: the console shows no Grafana"),
        Setting(
            key: "moby.grafana.dashboard", defaultValue: "moby-sensors",
            help: "uid of the Grafana dashboard the device view embeds"),
        Setting(
            key: "moby.catalog.file", defaultValue: "",
            help:
                "Sensor catalog: units, valid ranges, nominal/scale, warning/critical limits; default: config/sensors.json in the working directory, else share/moby/sensors.json beside the executable's folder, else config/sensors.json in a folder above it"
        ),
        Setting(
            key: "moby.alert.raise.after", defaultValue: "3",
            help: "Consecutive anomalous readings that raise (or escalate) an alert"),
        Setting(
            key: "moby.alert.clear.after", defaultValue: "5",
            help: "Consecutive normal readings that clear an alert's condition"),
        Setting(
            key: "moby.alert.auto.resolve", defaultValue: "false",
            help: "Resolve an alert by itself when its condition clears (true/false)"),
        Setting(
            key: "moby.alert.topic", defaultValue: "factory/alerts",
            help: "Alert events are published to <topic>/<device_id>"),
        Setting(
            key: "moby.alert.update.ms", defaultValue: "5000",
            help: "At most one alert.updated per alert per this interval while an anomaly goes on"),
        Setting(
            key: "moby.max.devices", defaultValue: "50000",
            help: "Most devices the server tracks; readings of further new devices are dead-lettered"),
        Setting(
            key: "moby.max.tag.values", defaultValue: "1000",
            help:
                "Distinct values of one device tag (location, line, each label) at most; readings and changes that would add one more are refused"
        ),
        Setting(
            key: "moby.device.stale.seconds", defaultValue: "30",
            help: "A device not heard from for this long is shown as stale"),
        Setting(
            key: "moby.ws.heartbeat.seconds", defaultValue: "15", help: "Heartbeat interval of the /ws alert stream"),
        Setting(
            key: "moby.ws.buffer", defaultValue: "1000",
            help: "Events a /ws client may fall behind before it is dropped (it then reconnects and catches up)"),
        Setting(
            key: "moby.ws.max.clients", defaultValue: "1000",
            help: "Open /ws alert streams at most; further ones get 503 with Retry-After"),
        Setting(
            key: "moby.llm.url", defaultValue: "",
            help: "OpenAI-compatible API base (…/v1) that rewrites alert summaries; empty: templates only"),
        Setting(key: "moby.llm.model", defaultValue: "gpt-4o-mini", help: "Chat model for summaries"),
        Setting(key: "moby.llm.key", defaultValue: "", help: "API key for the summary endpoint (Bearer)"),
        Setting(
            key: "moby.llm.timeout.ms", defaultValue: "3000",
            help: "Give up on a summary rewrite after this long (the template stays)"),
        Setting(
            key: "moby.llm.language", defaultValue: "en",
            help: "Language the rewritten summaries are written in, the operators': en or ko"),
        Setting(key: "moby.log.level", defaultValue: "info", help: "trace, debug, info, notice, warning, error"),
    ]

    /// The broker, the persistent session's client id, keep-alive and ping timeout.
    public var mqtt: MQTTConfiguration
    public var mqttTopic: String
    public var deadLetterTopic: String
    public var influx: InfluxConfiguration
    public var batchMaxLines: Int
    public var batchLinger: Duration
    public var spoolMaxBytes: Int64
    public var httpHost: String
    public var httpPort: Int
    /// HTTPS: the certificate and key the server presents; nil: plain HTTP.
    public var httpsFiles: HTTPSFiles?
    /// Timeouts and limits of the HTTP server's connections.
    public var http: HTTPLimits
    public var dataDirectory: String
    /// Authentication and its limits.
    public var access: AccessSettings
    public var catalogFile: String
    public var catalog: SensorCatalog
    public var hysteresis: Hysteresis
    public var autoResolve: Bool
    public var alertTopic: String
    public var alertUpdateInterval: Duration
    public var staleAfter: Duration
    public var maxDevices: Int
    /// Distinct values of one device tag (location, line, a label) at most.
    public var maxTagValues: Int
    public var heartbeatInterval: Duration
    public var webSocketBuffer: Int
    public var webSocketMaxClients: Int
    public var webDirectory: String
    /// The Grafana dashboard the console embeds; nil when not configured.
    public var grafana: GrafanaEmbed?
    /// The LLM that rewrites summaries; nil when not configured.
    public var summaryEndpoint: SummaryEndpoint?
    /// systemd's notification socket and watchdog (`Type=notify`); nil when systemd did not
    /// start the server (no `NOTIFY_SOCKET`).
    public var systemd: SystemdNotification?

    /// The alert database.
    public var alertDatabasePath: String { dataDirectory + "/alerts.sqlite" }

    /// Where batches wait while InfluxDB is unavailable.
    public var spoolDirectory: String { dataDirectory + "/spool" }
    public var logLevel: Logger.Level

    /// Reads every setting, falling back to the defaults above. Each value is parsed into its
    /// type here, once; a value that cannot work is a `ConfigurationError` naming the setting.
    public init(reader: ConfigReader, installed: InstalledFiles = InstalledFiles()) throws {
        func string(_ key: String) -> String {
            let fallback = Self.settings.first { $0.key == key }?.defaultValue ?? ""
            return reader.string(forKey: ConfigKey(key), default: fallback)
        }
        func optional(_ key: String) -> String? {
            let value = string(key)
            return value.isEmpty ? nil : value
        }
        func invalid(_ key: String, _ expected: String) -> ConfigurationError {
            ConfigurationError("\(key) (\(Setting.environmentName(key))) \(expected), got '\(string(key))'")
        }
        func int(_ key: String, in range: ClosedRange<Int>) throws -> Int {
            guard let value = Int(string(key)), range.contains(value) else {
                throw invalid(key, "must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }
        func httpURL(_ key: String) throws -> URL {
            guard let url = InfluxConfiguration.baseURL(string(key)) else {
                throw invalid(key, "must be an http:// or https:// URL with a host")
            }
            return url
        }
        let clientID = string("moby.mqtt.client.id")
        guard !clientID.isEmpty, clientID.utf8.count <= 65_535 else {
            // A persistent session needs a client id of its own (MQTT 3.1.1 §3.1.3.1).
            throw invalid("moby.mqtt.client.id", "must be a non-empty client id")
        }
        do {
            mqtt = try MQTTConfiguration(url: string("moby.mqtt.url"), clientID: clientID)
        } catch {
            throw ConfigurationError("moby.mqtt.url (MOBY_MQTT_URL): \(error)")
        }
        mqtt.cleanSession = false
        if let file = optional("moby.mqtt.password.file") {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
            else { throw invalid("moby.mqtt.password.file", "must name a readable file") }
            mqtt.password = text.trimmingCharacters(in: .newlines)
            guard mqtt.username != nil else {
                throw ConfigurationError(
                    "moby.mqtt.password.file (MOBY_MQTT_PASSWORD_FILE) needs a user name in MOBY_MQTT_URL (mqtt://user@host)"
                )
            }
        }
        let tlsFiles = (
            ca: optional("moby.mqtt.ca.file"), certificate: optional("moby.mqtt.cert.file"),
            key: optional("moby.mqtt.key.file")
        )
        if tlsFiles.ca != nil || tlsFiles.certificate != nil || tlsFiles.key != nil {
            guard mqtt.tls != nil else {
                throw ConfigurationError(
                    "MOBY_MQTT_CA_FILE, MOBY_MQTT_CERT_FILE and MOBY_MQTT_KEY_FILE need an mqtts:// broker URL")
            }
            mqtt.tls = MQTTTLS(caFile: tlsFiles.ca, certificateFile: tlsFiles.certificate, keyFile: tlsFiles.key)
        }
        if let tls = mqtt.tls {
            do {
                _ = try tls.makeContext()
            } catch {
                throw ConfigurationError("moby.mqtt (MOBY_MQTT_CA_FILE, …): \(error)")
            }
        }
        mqtt.keepAlive = .seconds(try int("moby.mqtt.keepalive.seconds", in: 0...65_535))
        mqtt.pingTimeout = .seconds(try int("moby.mqtt.ping.timeout.seconds", in: 1...3_600))
        mqtt.readGathering = .milliseconds(try int("moby.ingest.gather.ms", in: 0...1_000))
        mqttTopic = string("moby.mqtt.topic")
        deadLetterTopic = string("moby.mqtt.dead.letter.topic")
        guard let retention = InfluxConfiguration.Retention(string("moby.influx.retention")) else {
            throw invalid(
                "moby.influx.retention", "must be an InfluxQL duration like 30d, 12w or INF (at least 1h; 0s is INF)")
        }
        var downsampling: InfluxConfiguration.Downsampling?
        if string("moby.influx.downsample.retention").lowercased() != "off" {
            guard let longTerm = InfluxConfiguration.Retention(string("moby.influx.downsample.retention")) else {
                throw invalid(
                    "moby.influx.downsample.retention",
                    "must be an InfluxQL duration like 365d, INF or off (at least 1h)"
                )
            }
            guard
                let tier = InfluxConfiguration.Downsampling(
                    retentionPolicy: string("moby.influx.downsample.rp"), retention: longTerm,
                    interval: string("moby.influx.downsample.interval"))
            else {
                throw invalid("moby.influx.downsample.interval", "must be an InfluxQL duration of at least 1s, like 1m")
            }
            guard tier.retentionPolicy != string("moby.influx.rp"), !tier.retentionPolicy.isEmpty else {
                throw invalid("moby.influx.downsample.rp", "must name a retention policy other than MOBY_INFLUX_RP")
            }
            downsampling = tier
        }
        influx = InfluxConfiguration(
            url: try httpURL("moby.influx.url"), database: string("moby.influx.db"),
            retentionPolicy: string("moby.influx.rp"), retention: retention, downsampling: downsampling,
            api: try Self.influxAPI(optional),
            requestTimeout: .milliseconds(try int("moby.influx.timeout.ms", in: 100...600_000)),
            caFile: optional("moby.influx.ca.file"))
        if let caFile = influx.caFile {
            guard influx.url.scheme?.lowercased() == "https" else {
                throw ConfigurationError("MOBY_INFLUX_CA_FILE needs an https:// MOBY_INFLUX_URL")
            }
            do {
                _ = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw invalid("moby.influx.ca.file", "must name a readable PEM file (\(error))")
            }
        }
        batchMaxLines = try int("moby.batch.max.lines", in: 1...100_000)
        batchLinger = .milliseconds(try int("moby.batch.linger.ms", in: 0...60_000))
        spoolMaxBytes = Int64(try int("moby.spool.max.mb", in: 1...10_000_000)) * 1024 * 1024
        httpHost = string("moby.http.host")
        httpPort = try int("moby.http.port", in: 0...65_535)
        switch (optional("moby.http.tls.cert.file"), optional("moby.http.tls.key.file")) {
        case (let certificate?, let key?):
            httpsFiles = HTTPSFiles(certificate: certificate, key: key)
            do {
                _ = try httpsFiles?.configuration()
            } catch {
                throw ConfigurationError("moby.http.tls.cert.file / key.file (MOBY_HTTP_TLS_*): \(error)")
            }
        case (nil, nil): httpsFiles = nil
        default:
            throw ConfigurationError("HTTPS needs both MOBY_HTTP_TLS_CERT_FILE and MOBY_HTTP_TLS_KEY_FILE")
        }
        http = HTTPLimits(
            idleTimeout: .seconds(try int("moby.http.idle.timeout.seconds", in: 1...86_400)),
            requestTimeout: .seconds(try int("moby.http.request.timeout.seconds", in: 1...3_600)),
            maxConnections: try int("moby.http.max.connections", in: 1...1_000_000),
            maxConnectionsPerAddress: try int("moby.http.max.connections.per.address", in: 1...1_000_000),
            maxRequestLineBytes: try int("moby.http.max.request.line.bytes", in: 256...1_048_576),
            maxHeaderBytes: try int("moby.http.max.header.bytes", in: 1_024...1_048_576),
            shutdownTimeout: .seconds(try int("moby.shutdown.timeout.seconds", in: 0...3_600)))
        dataDirectory = string("moby.data.dir")
        func bool(_ key: String) throws -> Bool {
            switch string(key).lowercased() {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            default: throw invalid(key, "must be on or off (true or false)")
            }
        }
        access = AccessSettings(
            enabled: try bool("moby.auth"), openMonitoring: try bool("moby.auth.open.monitoring"),
            sessionLifetime: .seconds(try int("moby.session.hours", in: 1...24 * 365) * 3_600),
            loginAttemptsPerMinute: try int("moby.login.attempts.per.minute", in: 1...10_000),
            publishRate: try int("moby.publish.rate", in: 1...1_000_000),
            secureCookies: try bool("moby.cookie.secure") || httpsFiles != nil)
        webDirectory =
            optional("moby.web.dir") ?? installed.locate(checkout: "web/dist", installed: "web") ?? "web/dist"
        if optional("moby.grafana.url") != nil {
            grafana = GrafanaEmbed(
                url: try httpURL("moby.grafana.url").absoluteString, dashboard: string("moby.grafana.dashboard"))
        }
        guard let level = Logger.Level(rawValue: string("moby.log.level").lowercased()) else {
            throw invalid(
                "moby.log.level", "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        logLevel = level
        if let file = optional("moby.catalog.file") {
            catalogFile = file
        } else if let file = installed.locate(checkout: "config/sensors.json", installed: "sensors.json") {
            catalogFile = file
        } else {
            let places = installed.candidates(checkout: "config/sensors.json", installed: "sensors.json")
            throw ConfigurationError(
                "no sensor catalog: set MOBY_CATALOG_FILE (--catalog-file); looked in \(places.joined(separator: ", "))"
            )
        }
        do {
            catalog = try SensorCatalog.load(path: catalogFile)
        } catch {
            throw ConfigurationError("moby.catalog.file (MOBY_CATALOG_FILE): \(error.description)")
        }
        hysteresis = Hysteresis(
            raiseAfter: try int("moby.alert.raise.after", in: 1...10_000),
            clearAfter: try int("moby.alert.clear.after", in: 1...10_000))
        autoResolve = try bool("moby.alert.auto.resolve")
        alertTopic = string("moby.alert.topic")
        alertUpdateInterval = .milliseconds(try int("moby.alert.update.ms", in: 0...3_600_000))
        staleAfter = .seconds(try int("moby.device.stale.seconds", in: 1...86_400 * 365))
        maxDevices = try int("moby.max.devices", in: 1...10_000_000)
        maxTagValues = try int("moby.max.tag.values", in: 1...1_000_000)
        heartbeatInterval = .seconds(try int("moby.ws.heartbeat.seconds", in: 1...3_600))
        webSocketBuffer = try int("moby.ws.buffer", in: 1...1_000_000)
        webSocketMaxClients = try int("moby.ws.max.clients", in: 1...1_000_000)
        if optional("moby.llm.url") != nil {
            guard let language = SummaryEndpoint.Language(rawValue: string("moby.llm.language").lowercased()) else {
                throw invalid("moby.llm.language", "must be en or ko")
            }
            summaryEndpoint = SummaryEndpoint(
                url: try httpURL("moby.llm.url"), model: string("moby.llm.model"), apiKey: optional("moby.llm.key"),
                timeout: .milliseconds(try int("moby.llm.timeout.ms", in: 1...600_000)), language: language)
        }
        // Set by systemd, not by an operator: NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID.
        if let socket = optional("notify.socket") {
            var watchdog: Duration?
            if optional("watchdog.usec") != nil {
                let microseconds = try int("watchdog.usec", in: 1...Int.max)
                // A watchdog meant for another process (the one systemd started) is not ours.
                let owner = optional("watchdog.pid").flatMap { Int32($0) }
                if owner == nil || owner == getpid() { watchdog = .microseconds(microseconds) }
            }
            systemd = SystemdNotification(socketPath: socket, watchdog: watchdog)
        }
    }

    /// v2 when organisation, bucket and token are all set, v1 (with basic auth when user and
    /// password are set) when none is; a partial set is an error, not a silent fallback.
    private static func influxAPI(_ value: (String) -> String?) throws -> InfluxConfiguration.API {
        let v2Keys = ["moby.influx.org", "moby.influx.bucket", "moby.influx.token"]
        let v2 = v2Keys.map(value)
        if let org = v2[0], let bucket = v2[1], let token = v2[2] {
            return .v2(org: org, bucket: bucket, token: token)
        }
        if v2.contains(where: { $0 != nil }) {
            let missing = zip(v2Keys, v2).filter { $0.1 == nil }.map { Setting.environmentName($0.0) }
            throw ConfigurationError(
                "the InfluxDB v2 API needs MOBY_INFLUX_ORG, MOBY_INFLUX_BUCKET and MOBY_INFLUX_TOKEN; missing: \(missing.joined(separator: ", "))"
            )
        }
        switch (value("moby.influx.username"), value("moby.influx.password")) {
        case (let username?, let password?):
            return .v1(credentials: .init(username: username, password: password))
        case (nil, nil):
            return .v1(credentials: nil)
        case (nil, _):
            throw ConfigurationError("MOBY_INFLUX_PASSWORD is set without MOBY_INFLUX_USERNAME")
        case (_, nil):
            throw ConfigurationError("MOBY_INFLUX_USERNAME is set without MOBY_INFLUX_PASSWORD")
        }
    }

    /// Defaults overridden by `values` (configuration key → value); for tests and tools.
    public init(_ values: [String: String] = [:]) throws {
        var entries: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in values {
            entries[AbsoluteConfigKey(ConfigKey(key))] = ConfigValue(.string(value), isSecret: false)
        }
        try self.init(reader: ConfigReader(provider: InMemoryProvider(values: entries)))
    }
}

/// The certificate and key of the HTTPS server.
public struct HTTPSFiles: Sendable, Equatable {
    public var certificate: String
    public var key: String

    /// The server's TLS configuration; throws when a file cannot be loaded.
    func configuration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(certificate)
        guard !chain.isEmpty else { throw ConfigurationError("no certificate in \(certificate)") }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}

/// Authentication settings (`MOBY_AUTH`, …).
public struct AccessSettings: Sendable {
    /// false: everyone is admin (`MOBY_AUTH=off`).
    public var enabled: Bool
    public var openMonitoring: Bool
    public var sessionLifetime: Duration
    public var loginAttemptsPerMinute: Int
    /// Readings per second per credential on `POST /publish`.
    public var publishRate: Int
    public var secureCookies: Bool
}

/// An OpenAI-compatible chat-completions endpoint: `url` is the API base (`…/v1`).
public struct SummaryEndpoint: Sendable {
    public var url: URL
    public var model: String
    public var apiKey: String?
    public var timeout: Duration
    /// The operators' language: the console words everything else in each browser's language,
    /// but a narrative is one text, written once.
    public var language: Language = .en

    /// The languages the console speaks.
    public enum Language: String, Sendable {
        case en, ko

        /// What the model is told, in the system message.
        var instruction: String {
            switch self {
            case .en: "Write in English."
            case .ko:
                "Write in Korean (한국어). Keep machine names, metric names, numbers and units exactly as given."
            }
        }
    }
}

/// A setting with a value that cannot work; the message names the setting and what it expects.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
