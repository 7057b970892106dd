import Foundation
import MQTT
import MobyTestSupport
import NIOCore
import Testing

/// `mqtts://` against a real Mosquitto with a TLS listener: the client connects when it trusts
/// the broker's CA, refuses a broker certificate from another CA with a clear error, and
/// presents a client certificate when the broker asks for one.
@Suite(.serialized, .timeLimit(.minutes(2))) struct TLSTests {
    /// A Mosquitto listening with TLS only (`requireClientCertificate`: mutual TLS).
    static func withTLSBroker<T>(
        _ certificates: TestCertificates, requireClientCertificate: Bool = false,
        _ body: (Int) async throws -> T
    ) async throws -> T {
        let directory = try TestPaths.scratch("mosquitto-tls")
        let port = Loopback.freePort()
        let conf = """
            per_listener_settings false
            user \(TestPaths.userName)
            listener \(port) 127.0.0.1
            allow_anonymous true
            cafile \(certificates.caFile)
            certfile \(certificates.serverCertificate)
            keyfile \(certificates.serverKey)
            require_certificate \(requireClientCertificate)
            tls_version tlsv1.2
            log_dest stderr
            """
        let confURL = directory.appendingPathComponent("mosquitto.conf")
        try conf.write(to: confURL, atomically: true, encoding: .utf8)
        let process = ServiceProcess(
            name: "mosquitto-tls", executable: "mosquitto", arguments: ["-c", confURL.path],
            logFile: directory.appendingPathComponent("mosquitto.log"))
        try process.start()
        defer { process.stop() }
        try await Loopback.waitUntilListening(port: port, what: "mosquitto (TLS)")
        return try await body(port)
    }

    static func client(
        _ host: String, _ port: Int, id: String, tls: MQTTTLS, reconnect: Bool = false
    ) throws -> MQTTClient {
        var configuration = try MQTTConfiguration(url: "mqtts://\(host):\(port)", clientID: id)
        configuration.tls = tls
        configuration.connectTimeout = .seconds(3)
        if !reconnect { configuration.reconnect = nil }
        return MQTTClient(configuration: configuration, logger: testLogger(id))
    }

    @Test func mqttsURLsMeanTLSOnPort8883() throws {
        let configuration = try MQTTConfiguration(url: "mqtts://u:p%40ss@broker.plant", clientID: "x")
        #expect(configuration.tls == MQTTTLS() && configuration.port == 8883)
        #expect(try MQTTConfiguration(url: "mqtt://broker.plant", clientID: "x").tls == nil)
        // Errors never show the password.
        #expect(throws: MQTTConfigurationError.self) {
            try MQTTConfiguration(url: "mqtts://u:secret@h:0", clientID: "x")
        }
        do {
            _ = try MQTTConfiguration(url: "mqtts://u:secret@h:0", clientID: "x")
        } catch {
            #expect(!error.description.contains("secret") && error.description.contains("***"), "\(error)")
        }
        #expect(throws: MQTTConfigurationError.self) { try MQTTTLS(caFile: "/nonexistent/ca.pem").makeContext() }
    }

    @Test func connectsWhenItTrustsTheBrokersCAAndRefusesAnyOtherCA() async throws {
        let certificates = try TestCertificates.make()
        try await Self.withTLSBroker(certificates) { port in
            let trusted = try Self.client(
                "localhost", port, id: "tls-good", tls: MQTTTLS(caFile: certificates.caFile), reconnect: true)
            let running = try await RunningClient.connected(trusted)
            // A message goes through the encrypted connection and back.
            _ = try await trusted.subscribe([("moby/tls", .atLeastOnce)])
            try await trusted.publish(
                topic: "moby/tls", payload: ByteBuffer(string: "sealed"), qos: .atLeastOnce, timeout: .seconds(5))
            var iterator = trusted.messages.makeAsyncIterator()
            let message = try #require(await iterator.next())
            #expect(String(buffer: message.payload) == "sealed")
            await running.stop()

            let untrusted = try Self.client(
                "localhost", port, id: "tls-bad", tls: MQTTTLS(caFile: certificates.otherCAFile))
            do {
                try await untrusted.run()
                Issue.record("a broker certificate from an unknown CA was accepted")
            } catch let error as MQTTClientError {
                guard case .connectionFailed(let reason) = error else {
                    Issue.record("expected connectionFailed, got \(error)")
                    return
                }
                #expect(reason.contains("TLS") && reason.lowercased().contains("certificate"), "\(reason)")
            }
        }
    }

    @Test func presentsAClientCertificateWhenTheBrokerRequiresOne() async throws {
        let certificates = try TestCertificates.make()
        try await Self.withTLSBroker(certificates, requireClientCertificate: true) { port in
            let anonymous = try Self.client(
                "localhost", port, id: "tls-nocert", tls: MQTTTLS(caFile: certificates.caFile))
            await #expect(throws: MQTTClientError.self) { try await anonymous.run() }
            let presenting = try Self.client(
                "localhost", port, id: "tls-cert",
                tls: MQTTTLS(
                    caFile: certificates.caFile, certificateFile: certificates.clientCertificate,
                    keyFile: certificates.clientKey), reconnect: true)
            let running = try await RunningClient.connected(presenting)
            #expect(presenting.isConnected)
            await running.stop()
        }
    }
}
