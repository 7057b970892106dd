import Backoff
import MobyCore
import Testing

@testable import MQTT

@Suite struct ConfigurationTests {
    @Test func defaults() {
        let configuration = MQTTConfiguration(clientID: "c")
        #expect(configuration.host == "127.0.0.1" && configuration.port == 1883)
        #expect(configuration.keepAlive == .seconds(30))
        #expect(configuration.connectTimeout == .seconds(5))
        #expect(configuration.inboundBufferSize == 4096)
        #expect(configuration.maxPacketSize == 1_048_576)
        #expect(configuration.maxInflightOutgoing == 1000)
        #expect(configuration.reconnect == Backoff(initial: .milliseconds(100), maximum: .seconds(10)))
    }

    @Test func parsesURLs() throws {
        let plain = try MQTTConfiguration(url: "mqtt://broker.local", clientID: "c")
        #expect(plain.host == "broker.local" && plain.port == 1883 && plain.username == nil && plain.password == nil)

        let full = try MQTTConfiguration(url: "MQTT://us%40er:p%3Aa%20ss@10.0.0.1:18830/", clientID: "c")
        #expect(full.host == "10.0.0.1" && full.port == 18830)
        #expect(full.username == "us@er" && full.password == "p:a ss")

        let userOnly = try MQTTConfiguration(url: "mqtt://moby@localhost:1884", clientID: "c")
        #expect(userOnly.username == "moby" && userOnly.password == nil && userOnly.port == 1884)

        let ipv6 = try MQTTConfiguration(url: "mqtt://[::1]:1885", clientID: "c")
        #expect(ipv6.host == "::1" && ipv6.port == 1885)
    }

    @Test(arguments: [
        ("http://host", MQTTConfigurationError.unsupportedScheme(url: "http://host", scheme: "http")),
        ("ws://host", .unsupportedScheme(url: "ws://host", scheme: "ws")),
        ("host:1883", .invalidURL(url: "host:1883", reason: "missing scheme (mqtt://)")),
        ("mqtt://", .invalidURL(url: "mqtt://", reason: "missing host")),
        ("mqtt://host:0", .invalidURL(url: "mqtt://host:0", reason: "port must be a number from 1 to 65535")),
        ("mqtt://host:abc", .invalidURL(url: "mqtt://host:abc", reason: "port must be a number from 1 to 65535")),
        ("mqtt://host/path", .invalidURL(url: "mqtt://host/path", reason: "paths are not supported")),
        ("mqtt://u:%zz@host", .invalidURL(url: "mqtt://u:%zz@host", reason: "bad percent-encoding in credentials")),
    ])
    func rejectsBadURLs(url: String, error: MQTTConfigurationError) {
        #expect(throws: error) { try MQTTConfiguration(url: url, clientID: "c") }
        // The message shows the URL, never its password.
        #expect(String(describing: error).contains(url.replacingOccurrences(of: ":%zz@", with: ":***@")))
    }
}
