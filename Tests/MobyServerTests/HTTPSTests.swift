import Foundation
import Hummingbird
import HummingbirdTesting
import MobyTestSupport
import Testing

@testable import MobyServer

/// moby-server over HTTPS (`MOBY_HTTP_TLS_CERT_FILE`/`_KEY_FILE`), checked from outside with
/// curl: a client trusting the server's CA gets answers, one trusting another CA is refused.
@Suite(.timeLimit(.minutes(2))) struct HTTPSTests {
    /// curl's exit status and the HTTP status it saw ("000" when none).
    static func curl(_ arguments: [String]) throws -> (exit: Int32, status: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServiceProcess.resolve("curl"))
        process.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func servesHTTPSWithTheConfiguredCertificateOnly() async throws {
        let certificates = try TestCertificates.make()
        let directory = try TestPaths.scratch("https")
        let configuration = try ServerConfiguration([
            "moby.data.dir": directory.path, "moby.catalog.file": TestPaths.catalog,
            "moby.mqtt.url": "mqtt://127.0.0.1:1", "moby.influx.url": "http://127.0.0.1:1",
            "moby.web.dir": directory.appendingPathComponent("web").path, "moby.http.port": "0",
            "moby.http.tls.cert.file": certificates.serverCertificate,
            "moby.http.tls.key.file": certificates.serverKey,
        ])
        #expect(configuration.access.secureCookies, "session cookies are Secure over HTTPS")
        let app = try await buildApplication(configuration: configuration, logger: testLogger())
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let trusted = try Self.curl(["--cacert", certificates.caFile, "https://localhost:\(port)/health"])
            #expect(trusted == (0, "200"), "\(trusted)")
            let guarded = try Self.curl(["--cacert", certificates.caFile, "https://localhost:\(port)/api/v1/alerts"])
            #expect(guarded == (0, "401"), "authentication on over HTTPS too: \(guarded)")
            let untrusted = try Self.curl(["--cacert", certificates.otherCAFile, "https://localhost:\(port)/health"])
            #expect(untrusted.exit == 60 && untrusted.status == "000", "curl 60: peer certificate not trusted")
            let plain = try Self.curl(["http://localhost:\(port)/health"])
            #expect(plain.status != "200", "plain HTTP gets no answer from the TLS port: \(plain)")
        }
    }

    @Test func httpsAndMQTTTLSSettingsAreCheckedAtStart() throws {
        let certificates = try TestCertificates.make()
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(["moby.http.tls.cert.file": certificates.serverCertificate])
        }
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration([
                "moby.http.tls.cert.file": "/nonexistent.pem", "moby.http.tls.key.file": certificates.serverKey,
            ])
        }
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(["moby.mqtt.ca.file": certificates.caFile])  // needs mqtts://
        }
        let mqtts = try ServerConfiguration([
            "moby.mqtt.url": "mqtts://moby-server@broker.plant", "moby.mqtt.ca.file": certificates.caFile,
        ])
        #expect(mqtts.mqtt.tls?.caFile == certificates.caFile && mqtts.mqtt.port == 8883)
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(["moby.influx.ca.file": certificates.caFile])  // needs https://
        }
        let influx = try ServerConfiguration([
            "moby.influx.url": "https://influx.plant:8086", "moby.influx.ca.file": certificates.caFile,
        ])
        #expect(influx.influx.caFile == certificates.caFile)
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(["moby.influx.url": "https://influx.plant", "moby.influx.ca.file": "/nonexistent"])
        }
        do {
            _ = try ServerConfiguration(["moby.mqtt.url": "mqtts://broker", "moby.mqtt.ca.file": "/nonexistent.pem"])
            Issue.record("a missing CA file was accepted")
        } catch {
            #expect("\(error)".contains("/nonexistent.pem"), "\(error)")
        }
    }

    @Test func theBrokerPasswordCanComeFromAFile() throws {
        let directory = try TestPaths.scratch("mqtt-password")
        let file = directory.appendingPathComponent("password")
        try "s3cret:with@signs\n".write(to: file, atomically: true, encoding: .utf8)
        let configuration = try ServerConfiguration([
            "moby.mqtt.url": "mqtt://moby-server@127.0.0.1:1883", "moby.mqtt.password.file": file.path,
        ])
        #expect(configuration.mqtt.username == "moby-server" && configuration.mqtt.password == "s3cret:with@signs")
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(["moby.mqtt.url": "mqtt://127.0.0.1", "moby.mqtt.password.file": file.path])
        }
    }
}
