import Configuration
import MobyServer
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
        #expect(configuration.mqttURL == "mqtt://127.0.0.1:1883")
        #expect(configuration.mqttTopic == "factory/sensor/data/#")
        #expect(configuration.influx.url == "http://127.0.0.1:8086")
        #expect(configuration.influx.database == "moby")
        #expect(configuration.httpPort == 8080)
        #expect(configuration.batchMaxLines == 5000)
        #expect(configuration.influx.usesV2 == false)
    }

    @Test func environmentThenFlags() throws {
        let environment = [
            "MOBY_MQTT_URL": "mqtt://u:p@broker:1884", "MOBY_INFLUX_URL": "http://db:8086",
            "MOBY_INFLUX_DB": "plant", "MOBY_HTTP_PORT": "9000", "MOBY_DATA_DIR": "/data",
            "MOBY_MQTT_CLIENT_ID": "server-a",
        ]
        let fromEnvironment = try configuration([], environment: environment)
        #expect(fromEnvironment.mqttURL == "mqtt://u:p@broker:1884")
        #expect(fromEnvironment.influx.database == "plant")
        #expect(fromEnvironment.httpPort == 9000)
        #expect(fromEnvironment.dataDirectory == "/data")
        #expect(fromEnvironment.mqttClientID == "server-a")
        let flagsWin = try configuration(["--http-port", "9100", "--influx-db=other"], environment: environment)
        #expect(flagsWin.httpPort == 9100)
        #expect(flagsWin.influx.database == "other")
        #expect(flagsWin.mqttURL == "mqtt://u:p@broker:1884")
    }

    @Test func v2NeedsAllThree() throws {
        let configuration = try configuration([
            "--influx-org", "acme", "--influx-bucket", "sensors", "--influx-token", "secret",
        ])
        #expect(configuration.influx.usesV2)
    }

    @Test func badValuesAreExplained() {
        #expect(throws: ConfigurationError.self) { try configuration(["--http-port", "eighty"]) }
        #expect(throws: ConfigurationError.self) { try configuration(["--http-port", "70000"]) }
        #expect(throws: ConfigurationError.self) { try configuration(["--nonsense", "1"]) }
        #expect(throws: ConfigurationError.self) { try configuration(["--mqtt-url"]) }
        #expect(throws: (any Error).self) { try configuration(["--mqtt-url", "http://broker"]) }
        #expect(throws: ConfigurationError.self) { try configuration(["--influx-url", "broker:8086"]) }
        do {
            _ = try configuration(["--batch-max-lines", "0"])
            Issue.record("accepted 0")
        } catch {
            #expect("\(error)".contains("MOBY_BATCH_MAX_LINES"))
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
