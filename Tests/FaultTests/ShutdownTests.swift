import Foundation
import MobyTestSupport
import Testing

/// SIGTERM ends the real moby-server within its bound even when nothing it talks to answers:
/// with the broker unreachable the subscription never completes, and shutdown used to wait for it
/// forever (issue 11).
@Suite(.serialized, .timeLimit(.minutes(2))) struct ShutdownTests {
    @Test func sigtermWithBrokerAndInfluxDBUnreachableEndsPromptly() async throws {
        let directory = try TestPaths.scratch("shutdown")
        let server = try TestServerProcess(
            environment: [
                "MOBY_MQTT_URL": "mqtt://127.0.0.1:\(Loopback.freePort())",
                "MOBY_INFLUX_URL": "http://127.0.0.1:\(Loopback.freePort())",
                "MOBY_DATA_DIR": directory.path, "MOBY_CATALOG_FILE": TestPaths.catalog,
                "MOBY_AUTH_OPEN_MONITORING": "true",
                "MOBY_SHUTDOWN_TIMEOUT_SECONDS": "2",
            ], directory: directory)
        try server.process.start()
        let deadline = Date().addingTimeInterval(20)
        while HTTPProbe.status(port: server.httpPort, path: "/health") != 200, Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(HTTPProbe.status(port: server.httpPort, path: "/health") == 200)
        #expect(HTTPProbe.status(port: server.httpPort, path: "/health/ready") == 503)
        try await Task.sleep(for: .seconds(1))
        let started = Date()
        // SIGKILL if SIGTERM has not ended it within the timeout.
        let status = await server.process.stopOffThread(signal: SIGTERM, timeout: 15)
        let took = Date().timeIntervalSince(started)
        #expect(status == 0, "moby-server was killed or failed:\n\(server.process.logTail())")
        #expect(took < 10, "shutdown took \(took) s")
    }
}
