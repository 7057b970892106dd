import Foundation

/// Where the repository and the tests' scratch folders are.
public enum TestPaths {
    /// The repository root (found from this file's path).
    public static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `config/sensors.json`, the sensor catalog the server and the tests use.
    public static var catalog: String { repository.appendingPathComponent("config/sensors.json").path }

    /// A fresh scratch folder under `$MOBY_TEST_TMP` (or the system temp folder).
    public static func scratch(_ label: String) throws -> URL {
        ExecutorTicker.ensureRunning()
        let base =
            ProcessInfo.processInfo.environment["MOBY_TEST_TMP"]
            .map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("moby-tests")
        let dir = base.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The user the tests run as (Mosquitto must not drop to another one).
    public static var userName: String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "root" }
        return String(cString: name)
    }

    /// Renders a template from `deploy/` by replacing `@KEY@` placeholders.
    public static func render(template: String, values: [String: String]) throws -> String {
        var text = try String(
            contentsOf: repository.appendingPathComponent("deploy/\(template)"), encoding: .utf8)
        for (key, value) in values { text = text.replacingOccurrences(of: "@\(key)@", with: value) }
        return text
    }
}

/// A real Mosquitto broker on a free loopback port with persistence in its own folder.
public final class TestBroker: Sendable {
    public let port: Int
    public let directory: URL
    public let process: ServiceProcess

    /// How a test broker lets clients in: the template's AUTH section and its password and ACL
    /// files.
    public struct Access: Sendable {
        public var section: String
        public var passwordFile: String
        public var aclFile: String

        public init(section: String = "", passwordFile: String, aclFile: String) {
            self.section = section
            self.passwordFile = passwordFile
            self.aclFile = aclFile
        }

        /// Only the listed users (passwords through `mosquitto_passwd`), with the rights of `acl`.
        public static func users(_ users: [(name: String, password: String)], acl: String, in directory: URL) throws
            -> Access
        {
            let passwords = directory.appendingPathComponent("passwords").path
            for (index, user) in users.enumerated() {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_passwd")
                process.arguments = (index == 0 ? ["-c"] : []) + ["-b", passwords, user.name, user.password]
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    throw TestServiceError.notReady("mosquitto_passwd failed for \(user.name)")
                }
            }
            let aclFile = directory.appendingPathComponent("acl")
            try acl.write(to: aclFile, atomically: true, encoding: .utf8)
            return Access(passwordFile: passwords, aclFile: aclFile.path)
        }

        /// The shipped configuration opened for anonymous clients with every right, the way the
        /// template's header describes: for the tests of the MQTT client and the pipeline's
        /// internals. tests/mqtt and the Python harness run the shipped credentials and ACL.
        public static func open(in directory: URL) throws -> Access {
            let passwords = directory.appendingPathComponent("passwd")
            let acl = directory.appendingPathComponent("acl")
            try "".write(to: passwords, atomically: true, encoding: .utf8)
            // A pattern, not a topic line: see the template's header (restored sessions).
            try "pattern readwrite #\n".write(to: acl, atomically: true, encoding: .utf8)
            return Access(
                section: "allow_anonymous true\nuse_username_as_clientid false", passwordFile: passwords.path,
                aclFile: acl.path)
        }
    }

    /// `access` gets the broker's folder, where a test writes its password and ACL files (an
    /// open broker by default). `sizeLimit: false` drops the shipped `max_packet_size`, for
    /// tests of what the client does with oversized messages.
    public init(
        label: String = "mosquitto", sizeLimit: Bool = true,
        access: (URL) throws -> Access = { try Access.open(in: $0) }
    ) throws {
        directory = try TestPaths.scratch(label)
        port = Loopback.freePort()
        let access = try access(directory)
        var conf = try TestPaths.render(
            template: "mosquitto/mosquitto.conf.in",
            values: [
                "PORT": "\(port)", "DATA_DIR": directory.path, "AUTH": access.section,
                "PASSWORD_FILE": access.passwordFile, "ACL_FILE": access.aclFile, "USER": TestPaths.userName,
            ])
        if !sizeLimit {
            conf = conf.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("max_packet_size") }.joined(separator: "\n")
        }
        let confURL = directory.appendingPathComponent("mosquitto.conf")
        try conf.write(to: confURL, atomically: true, encoding: .utf8)
        process = ServiceProcess(
            name: "mosquitto", executable: "mosquitto", arguments: ["-c", confURL.path],
            logFile: directory.appendingPathComponent("mosquitto.log"))
    }

    /// Starts (or restarts) the broker and waits until it listens.
    public func start() async throws {
        try process.start()
        try await Loopback.waitUntilListening(port: port, what: "mosquitto")
    }

    public func stop(signal: Int32 = SIGTERM) { process.stop(signal: signal) }

    public var url: String { "mqtt://127.0.0.1:\(port)" }

    /// Starts a broker, runs `body`, stops the broker whatever happens.
    public static func with<T>(sizeLimit: Bool = true, _ body: (TestBroker) async throws -> T) async throws -> T {
        let broker = try TestBroker(sizeLimit: sizeLimit)
        try await broker.start()
        let result: T
        do {
            result = try await body(broker)
        } catch {
            await broker.process.stopOffThread()
            throw error
        }
        await broker.process.stopOffThread()
        return result
    }
}

/// A real InfluxDB 1.x (`influxd`) on free loopback ports with data in its own folder.
public final class TestInflux: Sendable {
    public let httpPort: Int
    public let directory: URL
    public let process: ServiceProcess

    /// `maxValuesPerTag` sets `[data] max-values-per-tag` (InfluxDB's default is 100,000): with
    /// a low value a test can make InfluxDB refuse new series. `authEnabled`: InfluxDB's users
    /// on, as shipped (tests of other things leave them off).
    /// `https`: serve HTTPS only, with the server certificate of these test certificates.
    /// `settings`: more lines by section (`["coordinator": ["max-select-point = 10"]]`), added to
    /// the section or, when the template has none, in a new one.
    public init(
        label: String = "influxd", maxValuesPerTag: Int? = nil, authEnabled: Bool = false,
        https: TestCertificates? = nil, settings: [String: [String]] = [:]
    ) throws {
        secure = https != nil
        directory = try TestPaths.scratch(label)
        httpPort = Loopback.freePort()
        var conf = try TestPaths.render(
            template: "influxdb/influxdb.conf.in",
            values: [
                "HTTP_PORT": "\(httpPort)", "RPC_PORT": "\(Loopback.freePort())",
                "DATA_DIR": directory.path, "AUTH_ENABLED": authEnabled ? "true" : "false",
            ])
        var settings = settings
        if let maxValuesPerTag { settings["data", default: []].append("max-values-per-tag = \(maxValuesPerTag)") }
        if let https {
            settings["http", default: []] += [
                "https-enabled = true", "https-certificate = \"\(https.serverCertificate)\"",
                "https-private-key = \"\(https.serverKey)\"",
            ]
        }
        for (section, lines) in settings.sorted(by: { $0.key < $1.key }) {
            let text = lines.map { "  \($0)\n" }.joined()
            if let header = conf.range(of: "[\(section)]\n") {
                conf.insert(contentsOf: text, at: header.upperBound)
            } else {
                conf += "\n[\(section)]\n" + text
            }
        }
        let confURL = directory.appendingPathComponent("influxdb.conf")
        try conf.write(to: confURL, atomically: true, encoding: .utf8)
        process = ServiceProcess(
            name: "influxd", executable: "influxd", arguments: ["-config", confURL.path],
            logFile: directory.appendingPathComponent("influxd.log"))
    }

    /// Starts (or restarts) influxd and waits until its HTTP port listens.
    public func start() async throws {
        try process.start()
        try await Loopback.waitUntilListening(port: httpPort, what: "influxd", timeout: 60)
    }

    /// Stops influxd. It waits for idle keep-alive HTTP connections on SIGTERM, so after a
    /// short grace period it is killed (its WAL makes that safe).
    public func stop(signal: Int32 = SIGTERM) { process.stop(signal: signal, timeout: 2) }

    /// HTTPS (the certificate names localhost).
    public let secure: Bool
    public var url: String { secure ? "https://localhost:\(httpPort)" : "http://127.0.0.1:\(httpPort)" }
    public var baseURL: URL { URL(string: url)! }

    /// Starts influxd, runs `body`, stops it whatever happens.
    public static func with<T>(
        maxValuesPerTag: Int? = nil, authEnabled: Bool = false, settings: [String: [String]] = [:],
        _ body: (TestInflux) async throws -> T
    ) async throws -> T {
        let influx = try TestInflux(maxValuesPerTag: maxValuesPerTag, authEnabled: authEnabled, settings: settings)
        try await influx.start()
        let result: T
        do {
            result = try await body(influx)
        } catch {
            await influx.process.stopOffThread(timeout: 2)
            throw error
        }
        await influx.process.stopOffThread(timeout: 2)
        return result
    }
}
