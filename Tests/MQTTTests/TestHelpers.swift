import Backoff
import Foundation
import Logging
import MobyTestSupport
import Synchronization
import Testing

@testable import MQTT

/// A client for `port` with fast reconnects, so tests that restart the broker stay quick.
func makeClient(
    port: Int, id: String, cleanSession: Bool = true, configure: (inout MQTTConfiguration) -> Void = { _ in }
) -> MQTTClient {
    var configuration = MQTTConfiguration(port: port, clientID: id, cleanSession: cleanSession)
    configuration.reconnect = Backoff(initial: .milliseconds(50), maximum: .milliseconds(300))
    configuration.connectTimeout = .seconds(2)
    configure(&configuration)
    return MQTTClient(configuration: configuration, logger: testLogger(id))
}

/// A running client: `run()` in a task, stopped by `stop()`.
final class RunningClient: Sendable {
    let client: MQTTClient
    let task: Task<Void, any Error>

    init(_ client: MQTTClient) {
        self.client = client
        task = Task { try await client.run() }
    }

    /// Starts `client` and waits until it is connected.
    static func connected(_ client: MQTTClient) async throws -> RunningClient {
        let running = RunningClient(client)
        try await eventually("\(client.configuration.clientID) to connect") { client.isConnected }
        return running
    }

    func stop() async {
        await client.disconnect()
        _ = try? await task.value
    }
}

/// Consumes a client's messages into an array, acknowledging them when `autoAck` is set.
final class Collector: Sendable {
    let client: MQTTClient
    let autoAck: Bool
    private let received = Mutex<[MQTTMessage]>([])
    private let consumer = Mutex<Task<Void, Never>?>(nil)

    init(_ client: MQTTClient, autoAck: Bool = true) {
        self.client = client
        self.autoAck = autoAck
        let task = Task { [self] in
            for await message in client.messages {
                received.withLock { $0.append(message) }
                if autoAck { client.acknowledge(message) }
            }
        }
        consumer.withLock { $0 = task }
    }

    var messages: [MQTTMessage] { received.withLock { $0 } }
    var count: Int { received.withLock { $0.count } }

    /// Waits until at least `count` messages arrived; returns all of them.
    @discardableResult
    func wait(for count: Int, timeout: Duration = .seconds(10)) async throws -> [MQTTMessage] {
        try await eventually("\(count) messages (have \(self.count))", timeout: timeout) { self.count >= count }
        return messages
    }

    func cancel() {
        consumer.withLock { $0?.cancel() }
    }
}

extension MQTTMessage {
    var text: String { String(buffer: payload) }
}

/// A Mosquitto that requires user `moby` with password `s3cret` (TestBroker allows anonymous).
enum AuthBroker {
    static func with<T>(_ body: (ServiceProcess, _ port: Int) async throws -> T) async throws -> T {
        let directory = try TestPaths.scratch("mosquitto-auth")
        let port = Loopback.freePort()
        let passwords = directory.appendingPathComponent("passwd")
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: ServiceProcess.resolve("mosquitto_passwd"))
        tool.arguments = ["-b", "-c", passwords.path, "moby", "s3cret"]
        try tool.run()
        tool.waitUntilExit()
        guard tool.terminationStatus == 0 else { throw TestServiceError.missing("mosquitto_passwd") }
        let acl = directory.appendingPathComponent("acl")
        try "user moby\ntopic readwrite #\n".write(to: acl, atomically: true, encoding: .utf8)
        let conf = try TestPaths.render(
            template: "mosquitto/mosquitto.conf.in",
            values: [
                "PORT": "\(port)", "DATA_DIR": directory.path, "AUTH": "", "PASSWORD_FILE": passwords.path,
                "ACL_FILE": acl.path, "USER": TestPaths.userName,
            ])
        let confURL = directory.appendingPathComponent("mosquitto.conf")
        try conf.write(to: confURL, atomically: true, encoding: .utf8)
        let process = ServiceProcess(
            name: "mosquitto-auth", executable: "mosquitto", arguments: ["-c", confURL.path],
            logFile: directory.appendingPathComponent("mosquitto.log"))
        try process.start()
        defer { process.stop() }
        try await Loopback.waitUntilListening(port: port, what: "mosquitto")
        return try await body(process, port)
    }
}

/// A counter shared between test tasks.
final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}
