import ArgumentParser
import Edge
import Foundation
import Logging
import MQTT
import MobyCore
import NIOPosix
import ServiceLifecycle
import Simulation

/// moby-sensor: the edge agent. Simulates factory devices publishing seed-format readings over
/// MQTT (QoS 1, per-device topics) at a steady aggregate rate, through an on-disk outbox that
/// holds readings while the broker is unreachable.
@main
struct SensorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moby-sensor",
        abstract:
            "The MOBY edge agent: simulated or real factory sensors publishing readings to MQTT through a durable outbox.",
        discussion: """
            Simulates --devices machines (or forwards real readings with --stdin or --command) and \
            publishes each reading with QoS 1 to factory/sensor/data/<device_id>. Every reading is \
            written to the on-disk outbox first and removed only when the broker acknowledged it.
            """)

    @Option(help: "MQTT broker, mqtt://user:pass@host:port or mqtts:// for TLS (env MOBY_MQTT_URL)")
    var mqttURL: String = ProcessInfo.processInfo.environment["MOBY_MQTT_URL"] ?? "mqtt://127.0.0.1:1883"

    @Option(help: "mqtts: PEM file of the CAs trusted for the broker's certificate (default: the system's)")
    var caFile: String?

    @Option(help: "mqtts: PEM client certificate presented to the broker (with --key-file)")
    var certFile: String?

    @Option(help: "mqtts: PEM private key of --cert-file")
    var keyFile: String?

    @Option(help: "Number of simulated devices (sensor_001, sensor_002, …)")
    var devices: Int = 3

    @Option(help: "Aggregate readings per second over all devices")
    var rate: Double = 3

    @Option(help: "Stop after this many readings, once all are acknowledged (0: run until interrupted)")
    var count: Int = 0

    @Option(help: "Random seed for deterministic signals")
    var seed: UInt64 = 1

    @Option(help: "Device id prefix")
    var prefix: String = "sensor_"

    @Option(
        help:
            "Location (site) sent with every simulated reading; a comma-separated list is dealt out to the devices in turn"
    )
    var location: String?

    @Option(help: "Production line sent with every simulated reading; a comma-separated list is dealt out in turn")
    var line: String?

    @Option(
        help:
            "MQTT client id (per-device connections append -<device_id>); default: moby-sensor-<host>-<random>, made once and kept in the outbox (client-id)"
    )
    var clientID: String?

    @Option(help: "MQTT keep-alive in seconds: PINGREQ after this long without traffic either way (0: off)")
    var keepaliveSeconds: Int = 10

    @Option(help: "Seconds a PINGREQ may go unanswered before the broker link counts as dead and is reconnected")
    var pingTimeoutSeconds: Int = 5

    @Option(help: "Outbox folder: readings wait here until the broker acknowledges them (env MOBY_SENSOR_OUTBOX)")
    var outbox: String = ProcessInfo.processInfo.environment["MOBY_SENSOR_OUTBOX"] ?? "./var/sensor-outbox"

    @Option(help: "Disk the outbox may use (MiB); beyond it new readings are refused and counted")
    var outboxMaxMB: Int = 256

    @Option(
        name: .customLong("anomaly"),
        parsing: .singleValue,
        help: ArgumentHelp(
            "Inject an anomaly: KIND:DEVICE@START[+DURATION], KIND one of spike, drift, stuck, noise, dropout (repeatable)",
            valueName: "injection"),
        transform: { text in
            do {
                return try AnomalyInjection(parsing: text)
            } catch {
                throw ValidationError("\(error)")
            }
        })
    var anomalies: [AnomalyInjection] = []

    @Flag(help: "Forward real readings: JSON lines on standard input, one reading per line")
    var stdin = false

    @Option(help: "Forward real readings: run this shell command every --interval; each line it prints is a reading")
    var command: String?

    @Option(help: "Seconds between runs of --command")
    var interval: Double = 1

    @Option(help: "Seconds a run of --command may take; then it is killed with every process it started")
    var commandTimeout: Double = 30

    @Option(help: "Device id for forwarded lines that have no device_id")
    var device: String?

    @Option(
        help: ArgumentHelp(
            "File of per-device MQTT credentials, one 'device_id username password' per line; those devices get their own connection and outbox",
            valueName: "file"))
    var credentials: String?

    @Option(help: "Log format when not on a terminal: text or json")
    var logFormat: LogFormat = .text

    @Flag(help: "Only warnings and errors; no progress")
    var quiet = false

    enum LogFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    func validate() throws {
        guard devices > 0 else { throw ValidationError("--devices must be at least 1") }
        // At most a day between readings: rates below would overflow the generator's schedule.
        guard rate >= 1.0 / 86_400, rate.isFinite else {
            throw ValidationError("--rate must be at least 1/86400 (one reading a day) and finite")
        }
        guard count >= 0 else { throw ValidationError("--count must not be negative") }
        guard outboxMaxMB > 0 else { throw ValidationError("--outbox-max-mb must be positive") }
        guard interval >= 0.001, interval <= 86_400 else {
            throw ValidationError("--interval must be in 0.001...86400 seconds")
        }
        guard commandTimeout >= 0.001, commandTimeout <= 86_400 else {
            throw ValidationError("--command-timeout must be in 0.001...86400 seconds")
        }
        guard (0...65_535).contains(keepaliveSeconds) else {
            throw ValidationError("--keepalive-seconds must be in 0...65535")
        }
        guard pingTimeoutSeconds > 0 else { throw ValidationError("--ping-timeout-seconds must be positive") }
        guard !(stdin && command != nil) else { throw ValidationError("use --stdin or --command, not both") }
        // Forwarded readings all go over the shared connection: per-device credentials would be
        // ignored, and a broker that checks them would drop what it refuses (QoS 1 acknowledges
        // a publish its ACL denies), losing readings without a trace.
        guard !((stdin || command != nil) && credentials != nil) else {
            throw ValidationError(
                "--credentials applies to simulated devices only; forwarded readings use the --mqtt-url credentials")
        }
        // The simulated ids are the prefix and a number: the prefix must make valid ids (and
        // MQTT topics), or every batch would be refused and stay at the head of the outbox.
        if let problem = ReadingDecoder.deviceIDProblem(prefix + "1") {
            throw ValidationError("--prefix '\(prefix)' does not make valid device ids: \(problem)")
        }
        if let device, let problem = ReadingDecoder.deviceIDProblem(device) {
            throw ValidationError("--device \(problem)")
        }
        for (flag, list) in [("--location", location), ("--line", line)] {
            for value in Self.values(list) {
                if let problem = TagValue.problem(value) { throw ValidationError("\(flag) '\(value)': \(problem)") }
            }
        }
    }

    /// The items of a comma-separated option.
    static func values(_ list: String?) -> [String] {
        (list ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// One MQTT connection with its outbox and the simulated devices it carries.
    struct Link {
        var devices: [SimulatedDevice]
        var username: String?
        var password: String?
        var clientID: String
        var outbox: String
    }

    func run() async throws {
        let terminal = isatty(STDERR_FILENO) == 1 && !quiet
        bootstrapLogging(terminal: terminal)
        let logger = Logger(label: "moby-sensor")
        let forwarding = stdin || command != nil
        let links = try makeLinks(simulated: forwarding ? [] : try simulatedDevices())
        let agents: [(SensorAgent, MQTTClient, EventLoopTaskExecutor, Link)] = try links.map { link in
            var configuration = try MQTTConfiguration(url: mqttURL, clientID: link.clientID)
            configuration.cleanSession = false
            if caFile != nil || certFile != nil || keyFile != nil {
                guard configuration.tls != nil else {
                    throw ValidationError("--ca-file, --cert-file and --key-file need an mqtts:// broker URL")
                }
                configuration.tls = MQTTTLS(caFile: caFile, certificateFile: certFile, keyFile: keyFile)
                _ = try configuration.tls?.makeContext()
            }
            configuration.keepAlive = .seconds(keepaliveSeconds)
            configuration.pingTimeout = .seconds(pingTimeoutSeconds)
            if let username = link.username {
                configuration.username = username
                configuration.password = link.password
            }
            // The link's client, drain and generator share one event loop (no thread hop per batch).
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let client = MQTTClient(configuration: configuration, eventLoopGroup: loop, logger: logger)
            let box = try Outbox(directory: link.outbox, maxBytes: Int64(outboxMaxMB) * 1024 * 1024)
            if box.depth.lines > 0 {
                logger.notice(
                    "outbox holds readings from before; sending them first",
                    metadata: ["readings": "\(box.depth.lines)", "outbox": "\(link.outbox)"])
            }
            return (
                SensorAgent(client: client, outbox: box, logger: logger), client,
                EventLoopTaskExecutor(eventLoop: loop), link
            )
        }
        let source: AsyncStream<String>? =
            stdin
            ? LineSource.standardInput()
            : command.map {
                LineSource.command(
                    $0, every: .milliseconds(Int64(interval * 1000)),
                    timeout: .milliseconds(Int64(commandTimeout * 1000)), logger: logger)
            }
        let run = SensorRun(
            links: agents.map { SensorRun.Link(agent: $0.0, client: $0.1, executor: $0.2, devices: $0.3.devices) },
            count: count,
            rate: rate, forwarding: source.map { ($0, device) }, report: !quiet, terminal: terminal, logger: logger)
        // SIGINT/SIGTERM: generation stops, readings not yet acknowledged stay in the outbox.
        // The run ending by itself (--count reached and acknowledged) ends the group too.
        var group = ServiceGroupConfiguration(
            services: [.init(service: run, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
        let counts = agents.map(\.0.counts)
        let generated = counts.reduce(0) { $0 + $1.generated }
        let acknowledged = counts.reduce(0) { $0 + $1.acknowledged }
        let refused = counts.reduce(0) { $0 + $1.refused }
        let rejected = counts.reduce(0) { $0 + $1.rejected }
        logger.info(
            "done",
            metadata: [
                "generated": "\(generated)", "acknowledged": "\(acknowledged)", "refused": "\(refused)",
                "rejected": "\(rejected)", "connections": "\(agents.count)",
            ])
    }

    private func simulatedDevices() throws -> [SimulatedDevice] {
        let width = max(3, String(devices).count)
        let injections = anomalies
        let locations = Self.values(location)
        let lines = Self.values(line)
        let simulated = (1...devices).map { index in
            let number = String(index)
            let id = prefix + String(repeating: "0", count: max(0, width - number.count)) + number
            var device = SimulatedDevice(
                deviceID: id, seed: seed &+ UInt64(index), injections: injections.filter { $0.deviceID == id })
            if !locations.isEmpty { device.location = locations[(index - 1) % locations.count] }
            if !lines.isEmpty { device.line = lines[(index - 1) % lines.count] }
            return device
        }
        for injection in injections where !simulated.contains(where: { $0.deviceID == injection.deviceID }) {
            throw ValidationError("--anomaly names \(injection.deviceID), which is not one of the simulated devices")
        }
        return simulated
    }

    /// One shared connection, plus one per device listed in --credentials.
    private func makeLinks(simulated: [SimulatedDevice]) throws -> [Link] {
        let table = try credentials.map(Self.readCredentials) ?? [:]
        let clientID = try clientID ?? AgentClientID.stored(in: outbox)
        var shared = Link(devices: [], clientID: clientID, outbox: outbox)
        var links: [Link] = []
        for device in simulated {
            guard let (username, password) = table[device.deviceID] else {
                shared.devices.append(device)
                continue
            }
            let folder = device.deviceID.map { $0 == "/" ? "_" : String($0) }.joined()
            links.append(
                Link(
                    devices: [device], username: username, password: password,
                    clientID: "\(clientID)-\(device.deviceID)", outbox: "\(outbox)/devices/\(folder)"))
        }
        if !shared.devices.isEmpty || links.isEmpty { links.insert(shared, at: 0) }
        return links
    }

    /// `device_id username password` per line; blank lines and `#` comments are skipped.
    static func readCredentials(_ path: String) throws -> [String: (String, String)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("--credentials: cannot read \(path)")
        }
        var table: [String: (String, String)] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 3 else {
                throw ValidationError("--credentials \(path):\(number + 1): expected 'device_id username password'")
            }
            table[String(fields[0])] = (String(fields[1]), String(fields[2]))
        }
        return table
    }

    private func bootstrapLogging(terminal: Bool) {
        let level: Logger.Level = quiet ? .warning : .info
        let json = logFormat == .json && !terminal
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
