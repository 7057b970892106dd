import Foundation
import Logging
import MobyTestSupport
import Synchronization
import Testing

@testable import MQTT

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` every 10 ms until it holds; throws after `timeout`.
func eventually(
    _ what: String, timeout: Duration = .seconds(10), _ condition: () throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: "mqtt-test.\(label)")
    logger.logLevel = ProcessInfo.processInfo.environment["MQTT_TEST_LOG"] == nil ? .critical : .debug
    return logger
}

/// A client for `port` with fast reconnects, so tests that restart the broker stay quick.
func makeClient(
    port: Int, id: String, cleanSession: Bool = true, configure: (inout MQTTConfiguration) -> Void = { _ in }
) -> MQTTClient {
    var configuration = MQTTConfiguration(port: port, clientID: id, cleanSession: cleanSession)
    configuration.reconnect = MQTTBackoff(initialDelay: .milliseconds(50), maxDelay: .milliseconds(300))
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

/// A Mosquitto process for these tests. `TestBroker` renders the configuration; this class runs
/// it and stops it with SIGKILL by default: started from the test runner, Mosquitto 2.0.11 does
/// not react to SIGTERM, so `ServiceProcess.stop()` waits out its 10 s timeout on every stop.
/// (Persistence is autosaved every second, so tests that need a session wait that long first.)
final class Broker: @unchecked Sendable {
    let port: Int
    let executable: String
    let arguments: [String]
    let logFile: URL
    private let lock = NSLock()
    private var process: Process?

    init(port: Int, executable: String, arguments: [String], logFile: URL) {
        self.port = port
        self.executable = executable
        self.arguments = arguments
        self.logFile = logFile
    }

    convenience init(_ broker: TestBroker) {
        self.init(
            port: broker.port, executable: broker.process.executable, arguments: broker.process.arguments,
            logFile: broker.process.logFile)
    }

    var pid: Int32? { lock.withLock { process?.processIdentifier } }

    /// Starts the broker and waits until it listens.
    func start() async throws {
        try lock.withLock {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ServiceProcess.resolve(executable))
            process.arguments = arguments
            if !FileManager.default.fileExists(atPath: logFile.path) {
                _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: logFile)
            handle.seekToEndOfFile()
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            self.process = process
        }
        try await Loopback.waitUntilListening(port: port, what: "mosquitto")
    }

    /// Sends `signal` and waits (up to 10 s, then SIGKILL) until the broker has exited.
    func stop(signal: Int32 = SIGKILL) {
        guard let pid = lock.withLock({ process?.processIdentifier }) else { return }
        kill(pid, signal)
        let deadline = Date().addingTimeInterval(10)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL) }
            usleep(5_000)
        }
        lock.withLock { process = nil }
    }
}

/// Runs `body` with a fresh Mosquitto (configured by `TestBroker`, with persistence in a folder
/// the `mosquitto` user it drops to as root can write).
func withBroker<T>(_ body: (Broker) async throws -> T) async throws -> T {
    let config = try TestBroker()
    try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: config.directory.path)
    let broker = Broker(config)
    try await broker.start()
    defer { broker.stop() }
    return try await body(broker)
}

/// A Mosquitto that requires user `moby` with password `s3cret` (TestBroker allows anonymous).
enum AuthBroker {
    static func with<T>(_ body: (Broker) async throws -> T) async throws -> T {
        let directory = try TestPaths.scratch("mosquitto-auth")
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory.path)
        let port = Loopback.freePort()
        let passwords = directory.appendingPathComponent("passwd")
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: ServiceProcess.resolve("mosquitto_passwd"))
        tool.arguments = ["-b", "-c", passwords.path, "moby", "s3cret"]
        try tool.run()
        tool.waitUntilExit()
        guard tool.terminationStatus == 0 else { throw TestServiceError.missing("mosquitto_passwd") }
        // The template's header comment repeats @AUTH@, so only one line goes through it.
        var conf = try TestPaths.render(
            template: "mosquitto/mosquitto.conf.in",
            values: ["PORT": "\(port)", "DATA_DIR": directory.path, "AUTH": "allow_anonymous false"])
        conf += "\npassword_file \(passwords.path)\n"
        let confURL = directory.appendingPathComponent("mosquitto.conf")
        try conf.write(to: confURL, atomically: true, encoding: .utf8)
        let broker = Broker(
            port: port, executable: "mosquitto", arguments: ["-c", confURL.path],
            logFile: directory.appendingPathComponent("mosquitto.log"))
        try await broker.start()
        defer { broker.stop() }
        return try await body(broker)
    }
}

/// A counter shared between test tasks.
final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}
