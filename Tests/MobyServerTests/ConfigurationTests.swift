import Configuration
import Foundation
import MobyServer
import MobyTestSupport
import Testing

@Suite struct ConfigurationTests {
    func configuration(_ arguments: [String], environment: [String: String] = [:]) throws -> ServerConfiguration {
        guard case .run(let reader) = try ServerCommandLine.parse(arguments, environment: environment) else {
            throw ConfigurationError("expected a run")
        }
        return try ServerConfiguration(reader: reader)
    }

    @Test func defaults() throws {
        let configuration = try configuration([])
        #expect(configuration.mqtt.host == "127.0.0.1" && configuration.mqtt.port == 1883)
        #expect(configuration.mqtt.clientID == "moby-server" && !configuration.mqtt.cleanSession)
        #expect(configuration.mqtt.keepAlive == .seconds(10) && configuration.mqtt.pingTimeout == .seconds(5))
        #expect(configuration.mqttTopic == "factory/sensor/data/#")
        #expect(configuration.influx.url.absoluteString == "http://127.0.0.1:8086")
        #expect(configuration.influx.database == "moby")
        #expect(configuration.influx.retention == .duration("30d", nanoseconds: 30 * 86_400 * 1_000_000_000))
        #expect(configuration.httpPort == 8080)
        #expect(configuration.batchMaxLines == 5000)
        #expect(configuration.influx.api == .v1(credentials: nil))
        #expect(configuration.logLevel == .info)
        let tier = try #require(configuration.influx.downsampling)
        #expect(tier.retentionPolicy == "long_term" && tier.interval == "1m" && tier.resampleFor == "5m")
        #expect(tier.retention == .duration("365d", nanoseconds: 365 * 86_400 * 1_000_000_000))
    }

    @Test func theLongTermTierIsConfigurableAndCanBeSwitchedOff() throws {
        let custom = try configuration(
            ["--influx-downsample-interval", "300s", "--influx-downsample-rp", "yearly"],
            environment: ["MOBY_INFLUX_DOWNSAMPLE_RETENTION": "730d"])
        #expect(custom.influx.downsampling?.interval == "5m")
        #expect(custom.influx.downsampling?.retentionPolicy == "yearly")
        #expect(custom.influx.downsampling?.retention.text == "730d")
        #expect(try configuration(["--influx-downsample-retention", "off"]).influx.downsampling == nil)
        #expect(try configuration(["--influx-downsample-retention", "INF"]).influx.downsampling?.retention == .forever)
    }

    @Test func theCatalogAndConsoleAreFoundFromAnyFolder() throws {
        // An installed layout: /prefix/bin/moby-server, /prefix/share/moby/{sensors.json,web}.
        let root = try TestPaths.scratch("installed")
        let prefix = root.appendingPathComponent("prefix")
        let share = prefix.appendingPathComponent("share/moby")
        try FileManager.default.createDirectory(
            at: share.appendingPathComponent("web"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: TestPaths.catalog, toPath: share.appendingPathComponent("sensors.json").path)
        let elsewhere = root.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let installed = InstalledFiles(
            workingDirectory: elsewhere.path, executable: prefix.appendingPathComponent("bin/moby-server").path)
        let values = ["moby.mqtt.url": "mqtt://127.0.0.1:1883"]
        let fromInstall = try ServerConfiguration(reader: Self.reader(values), installed: installed)
        #expect(fromInstall.catalogFile == share.appendingPathComponent("sensors.json").path)
        #expect(fromInstall.webDirectory == share.appendingPathComponent("web").path)

        // A build inside a checkout: <checkout>/.build/<triple>/release/moby-server.
        let checkout = root.appendingPathComponent("checkout")
        try FileManager.default.createDirectory(
            at: checkout.appendingPathComponent("config"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: TestPaths.catalog, toPath: checkout.appendingPathComponent("config/sensors.json").path)
        let built = InstalledFiles(
            workingDirectory: elsewhere.path,
            executable: checkout.appendingPathComponent(".build/x86_64-unknown-linux-gnu/release/moby-server").path)
        let fromCheckout = try ServerConfiguration(reader: Self.reader(values), installed: built)
        #expect(fromCheckout.catalogFile == checkout.appendingPathComponent("config/sensors.json").path)

        // Nowhere: the error says where it looked and which setting to use.
        let lost = InstalledFiles(
            workingDirectory: elsewhere.path, executable: elsewhere.appendingPathComponent("bin/x").path)
        do {
            _ = try ServerConfiguration(reader: Self.reader(values), installed: lost)
            Issue.record("started without a catalog")
        } catch {
            #expect("\(error)".contains("MOBY_CATALOG_FILE"))
            #expect("\(error)".contains(elsewhere.appendingPathComponent("config/sensors.json").path))
        }
        // The setting wins.
        let named = try ServerConfiguration(
            reader: Self.reader(values.merging(["moby.catalog.file": TestPaths.catalog]) { $1 }), installed: lost)
        #expect(named.catalogFile == TestPaths.catalog)
    }

    static func reader(_ values: [String: String]) -> ConfigReader {
        var entries: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in values {
            entries[AbsoluteConfigKey(ConfigKey(key))] = ConfigValue(.string(value), isSecret: false)
        }
        return ConfigReader(provider: InMemoryProvider(values: entries))
    }

    @Test func environmentThenFlags() throws {
        let environment = [
            "MOBY_MQTT_URL": "mqtt://u:p@broker:1884", "MOBY_INFLUX_URL": "http://db:8086",
            "MOBY_INFLUX_DB": "plant", "MOBY_HTTP_PORT": "9000", "MOBY_DATA_DIR": "/data",
            "MOBY_MQTT_CLIENT_ID": "server-a",
        ]
        let fromEnvironment = try configuration([], environment: environment)
        #expect(fromEnvironment.mqtt.host == "broker" && fromEnvironment.mqtt.port == 1884)
        #expect(fromEnvironment.mqtt.username == "u" && fromEnvironment.mqtt.password == "p")
        #expect(fromEnvironment.influx.database == "plant")
        #expect(fromEnvironment.httpPort == 9000)
        #expect(fromEnvironment.dataDirectory == "/data")
        #expect(fromEnvironment.mqtt.clientID == "server-a")
        let flagsWin = try configuration(["--http-port", "9100", "--influx-db=other"], environment: environment)
        #expect(flagsWin.httpPort == 9100)
        #expect(flagsWin.influx.database == "other")
        #expect(flagsWin.mqtt.host == "broker")
    }

    @Test func influxAPIIsV2OnlyWithAllThreeAndNeverHalfConfigured() throws {
        let v2 = try configuration(["--influx-org", "acme", "--influx-bucket", "sensors", "--influx-token", "secret"])
        #expect(v2.influx.api == .v2(org: "acme", bucket: "sensors", token: "secret"))
        // Two of the three are a mistake to point out, not a silent fallback to v1.
        for (pair, missing) in [
            (["--influx-org", "acme", "--influx-bucket", "sensors"], "MOBY_INFLUX_TOKEN"),
            (["--influx-org", "acme", "--influx-token", "secret"], "MOBY_INFLUX_BUCKET"),
            (["--influx-bucket", "sensors", "--influx-token", "secret"], "MOBY_INFLUX_ORG"),
        ] {
            let error = try #require(throws: ConfigurationError.self) { try configuration(pair) }
            #expect(error.description.hasSuffix("missing: \(missing)"), "\(pair): \(error)")
        }
        let basic = try configuration(["--influx-username", "moby", "--influx-password", "pw"])
        #expect(basic.influx.api == .v1(credentials: .init(username: "moby", password: "pw")))
        let half = try #require(throws: ConfigurationError.self) { try configuration(["--influx-username", "moby"]) }
        #expect(half.description.contains("without MOBY_INFLUX_PASSWORD"))
    }

    @Test func typedValues() throws {
        let custom = try configuration(
            ["--log-level", "DEBUG", "--influx-retention", "INF", "--mqtt-keepalive-seconds", "0"])
        #expect(custom.logLevel == .debug)
        #expect(custom.influx.retention == .forever && custom.influx.retention.nanoseconds == nil)
        #expect(custom.mqtt.keepAlive == .zero)
        let llm = try configuration(["--llm-url", "https://llm.example/v1"])
        #expect(llm.summaryEndpoint?.url.host == "llm.example")
    }

    @Test func httpLimits() throws {
        #expect(try configuration([]).http == HTTPLimits())
        let limits = try configuration(
            ["--http-idle-timeout-seconds", "5", "--shutdown-timeout-seconds=3"],
            environment: [
                "MOBY_HTTP_REQUEST_TIMEOUT_SECONDS": "7", "MOBY_HTTP_MAX_CONNECTIONS": "100",
                "MOBY_HTTP_MAX_CONNECTIONS_PER_ADDRESS": "25",
                "MOBY_HTTP_MAX_REQUEST_LINE_BYTES": "4096", "MOBY_HTTP_MAX_HEADER_BYTES": "16384",
            ]
        ).http
        #expect(
            limits
                == HTTPLimits(
                    idleTimeout: .seconds(5), requestTimeout: .seconds(7), maxConnections: 100,
                    maxConnectionsPerAddress: 25, maxRequestLineBytes: 4096, maxHeaderBytes: 16384,
                    shutdownTimeout: .seconds(3)))
        #expect(throws: ConfigurationError.self) { try configuration(["--http-max-connections", "0"]) }
        for bad in ["0", "-5", "99999999999999999999", "ten", "1\u{0}"] {
            #expect(throws: ConfigurationError.self, "\(bad.debugDescription)") {
                try configuration(["--http-max-connections-per-address", bad])
            }
        }
    }

    @Test func badValuesAreExplained() {
        // Each refusal names the setting and what it expects.
        let cases: [([String], [String])] = [
            (["--http-port", "eighty"], ["MOBY_HTTP_PORT", "whole number", "eighty"]),
            (["--http-port", "70000"], ["MOBY_HTTP_PORT", "0...65535"]),
            (["--nonsense", "1"], ["--nonsense"]),
            (["--mqtt-url"], ["--mqtt-url"]),
            (["--mqtt-url", "http://broker"], ["http"]),
            (["--influx-url", "broker:8086"], ["MOBY_INFLUX_URL", "http://", "broker:8086"]),
            (["--influx-url", "http://"], ["MOBY_INFLUX_URL", "with a host"]),
            (["--llm-url", "ftp://llm"], ["MOBY_LLM_URL", "http://", "ftp://llm"]),
            (["--llm-url", "http://llm/v1", "--llm-language", "fr"], ["MOBY_LLM_LANGUAGE", "en or ko", "fr"]),
            (["--llm-url", "http://llm/v1", "--llm-language", "ko\u{0}"], ["MOBY_LLM_LANGUAGE", "en or ko"]),
            (
                ["--llm-url", "http://llm/v1", "--llm-language", String(repeating: "k", count: 100_000)],
                ["MOBY_LLM_LANGUAGE"]
            ),
            (["--log-level", "loud"], ["MOBY_LOG_LEVEL", "trace, debug, info", "loud"]),
            (["--influx-retention", "30 days"], ["MOBY_INFLUX_RETENTION", "30d, 12w or INF", "30 days"]),
            (["--alert-auto-resolve", "maybe"], ["MOBY_ALERT_AUTO_RESOLVE", "true or false", "maybe"]),
            (["--mqtt-client-id", ""], ["moby.mqtt.client.id"]),
            (["--ingest-gather-ms", "-1"], ["MOBY_INGEST_GATHER_MS", "0...1000"]),
            (["--ingest-gather-ms", "99999999999999999999"], ["MOBY_INGEST_GATHER_MS", "whole number"]),
            (["--grafana-url", "javascript:alert(1)"], ["MOBY_GRAFANA_URL", "http://"]),
            (["--influx-downsample-retention", "a year"], ["MOBY_INFLUX_DOWNSAMPLE_RETENTION", "365d", "a year"]),
            (["--influx-downsample-interval", "500ms"], ["MOBY_INFLUX_DOWNSAMPLE_INTERVAL", "at least 1s", "500ms"]),
            (["--influx-downsample-rp", "raw"], ["MOBY_INFLUX_DOWNSAMPLE_RP", "other than MOBY_INFLUX_RP", "raw"]),
        ]
        for (arguments, words) in cases {
            do {
                _ = try configuration(arguments)
                Issue.record("accepted \(arguments)")
            } catch {
                for word in words { #expect("\(error)".contains(word), "\(arguments): \(error)") }
            }
        }
        do {
            _ = try configuration(["--batch-max-lines", "0"])
            Issue.record("accepted 0")
        } catch {
            #expect("\(error)".contains("MOBY_BATCH_MAX_LINES"))
        }
    }

    @Test func alertSettings() throws {
        let defaults = try configuration([])
        #expect(defaults.hysteresis.raiseAfter == 3 && defaults.hysteresis.clearAfter == 5)
        #expect(defaults.autoResolve == false)
        #expect(defaults.catalogFile.hasSuffix("/config/sensors.json"))
        let custom = try configuration(
            ["--alert-raise-after", "5", "--alert-auto-resolve", "yes"], environment: ["MOBY_ALERT_CLEAR_AFTER": "9"])
        #expect(custom.hysteresis.raiseAfter == 5 && custom.hysteresis.clearAfter == 9 && custom.autoResolve)
        #expect(throws: ConfigurationError.self) { try configuration(["--alert-auto-resolve", "maybe"]) }
        #expect(throws: ConfigurationError.self) { try configuration(["--alert-raise-after", "0"]) }
    }

    @Test func aBadCatalogStopsTheServerWithTheReason() throws {
        let file = try TestPaths.scratch("catalog").appendingPathComponent("sensors.json")
        let good = try String(contentsOfFile: TestPaths.catalog, encoding: .utf8)
        try good.replacingOccurrences(of: #""nominal": 65, "scale": 12"#, with: #""nominal": 65, "scale": -1"#)
            .write(to: file, atomically: true, encoding: .utf8)
        do {
            _ = try configuration(["--catalog-file", file.path])
            Issue.record("accepted a catalog with a negative scale")
        } catch {
            #expect("\(error)".contains("MOBY_CATALOG_FILE"))
            #expect("\(error)".contains("metrics.sound.scale: must be greater than 0"))
        }
        // A profile naming a metric the catalog does not have stops the start, naming the key.
        try good.replacingOccurrences(of: #""temperature": { "nominal": 4"#, with: #""pressure": { "nominal": 4"#)
            .write(to: file, atomically: true, encoding: .utf8)
        do {
            _ = try configuration(["--catalog-file", file.path])
            Issue.record("accepted a profile with an unknown metric")
        } catch {
            #expect("\(error)".contains("MOBY_CATALOG_FILE"))
            #expect("\(error)".contains("profiles.cold_room.metrics.pressure: unknown metric"), "\(error)")
        }
        do {
            _ = try configuration(["--catalog-file", "/nowhere/sensors.json"])
            Issue.record("accepted a missing catalog")
        } catch {
            #expect("\(error)".contains("/nowhere/sensors.json: cannot read the file"))
        }
    }

    @Test func helpListsEverySetting() throws {
        guard case .help(let text) = try ServerCommandLine.parse(["--help"], environment: [:]) else {
            Issue.record("no help")
            return
        }
        for setting in ServerConfiguration.settings {
            #expect(text.contains(ServerCommandLine.flag(for: setting.key)))
            #expect(text.contains(setting.environmentName))
        }
        for required in ["MOBY_MQTT_URL", "MOBY_INFLUX_URL", "MOBY_INFLUX_DB", "MOBY_HTTP_PORT", "MOBY_DATA_DIR"] {
            #expect(text.contains(required))
        }
    }
}
