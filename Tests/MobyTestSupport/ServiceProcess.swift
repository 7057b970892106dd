import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real server process (Mosquitto, influxd, moby-server) owned by a test: started on loopback,
/// stopped, killed or restarted on demand, always reaped.
public final class ServiceProcess: @unchecked Sendable {
    public let name: String
    public let executable: String
    public let arguments: [String]
    public let environment: [String: String]
    public let logFile: URL
    private let lock = NSLock()
    private var process: Process?

    public init(
        name: String, executable: String, arguments: [String], environment: [String: String] = [:],
        logFile: URL
    ) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.logFile = logFile
    }

    deinit {
        if let process = process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            Self.forgetPID(process.processIdentifier)
        }
    }

    /// The process id while running.
    public var pid: Int32? {
        lock.withLock { process?.isRunning == true ? process?.processIdentifier : nil }
    }

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// Starts the process; its stdout and stderr are appended to `logFile`.
    public func start() throws {
        try lock.withLock {
            precondition(process?.isRunning != true, "\(name) already running")
            let process = Process()
            // Through env(1): the test process ignores SIGTERM/SIGINT (graceful-shutdown
            // handlers), and ignored signals are inherited across exec.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["--default-signal=TERM,INT,HUP,QUIT,PIPE", Self.resolve(executable)] + arguments
            var env = ProcessInfo.processInfo.environment
            for (key, value) in environment { env[key] = value }
            process.environment = env
            if !FileManager.default.fileExists(atPath: logFile.path) {
                _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: logFile)
            handle.seekToEndOfFile()
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            self.process = process
            Self.recordPID(process.processIdentifier, name: name)
        }
    }

    /// With `MOBY_TEST_PIDS` set (scripts/test sets it), each started process leaves a file
    /// `<pid>` there holding its log path, removed once it is reaped: what a crashed test run
    /// leaves behind is killed by PID at the next start, never by a name pattern.
    static var pidDirectory: URL? {
        ProcessInfo.processInfo.environment["MOBY_TEST_PIDS"].map { URL(fileURLWithPath: $0) }
    }

    private static func recordPID(_ pid: Int32, name: String) {
        guard let directory = pidDirectory else { return }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? Data(name.utf8).write(to: directory.appendingPathComponent("\(pid)"))
    }

    private static func forgetPID(_ pid: Int32) {
        guard let directory = pidDirectory else { return }
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("\(pid)"))
    }

    /// `stop` on a thread of its own: waiting for a process to exit must not hold one of the few
    /// threads Swift's concurrency shares between all the tests running at once (a handful of
    /// such waits starved unrelated tests of seconds).
    @discardableResult
    public func stopOffThread(signal: Int32 = SIGTERM, timeout: Double = 10) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.stop(signal: signal, timeout: timeout)) }.start()
        }
    }

    /// Sends `signal` and waits for the process to exit (SIGKILL after `timeout`).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 10) -> Int32 {
        guard let process = lock.withLock({ self.process }) else { return 0 }
        let pid = process.processIdentifier
        if process.isRunning {
            kill(pid, signal)
            let deadline = Date().addingTimeInterval(timeout)
            while !Self.hasExited(pid) && Date() < deadline { usleep(5_000) }
            if !Self.hasExited(pid) {
                kill(pid, SIGKILL)
            }
        }
        process.waitUntilExit()
        Self.forgetPID(pid)
        lock.withLock { self.process = nil }
        return process.terminationStatus
    }

    /// True once `pid` is gone or a zombie (Foundation's `isRunning` notices exits late).
    static func hasExited(_ pid: Int32) -> Bool {
        if kill(pid, 0) != 0 { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// The last `bytes` of the log, for failure messages.
    public func logTail(bytes: Int = 4000) -> String {
        guard let data = try? Data(contentsOf: logFile) else { return "" }
        return String(decoding: data.suffix(bytes), as: UTF8.self)
    }

    /// Finds `name` on PATH (and in /usr/sbin, where Debian puts mosquitto).
    public static func resolve(_ name: String) -> String {
        if name.hasPrefix("/") { return name }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/usr/bin:/sbin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return name
    }
}

/// Loopback ports and readiness checks.
public enum Loopback {
    /// A port that was free a moment ago (bound to port 0, then released).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        precondition(bound == 0)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// A socket connected to 127.0.0.1:`port` (the caller closes it), or nil when nothing listens.
    public static func connect(port: Int, receiveTimeout seconds: Int = 5) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// True when something accepts TCP connections on 127.0.0.1:`port`.
    public static func isListening(port: Int) -> Bool {
        guard let fd = connect(port: port) else { return false }
        close(fd)
        return true
    }

    /// Waits until `port` accepts connections; throws with `what` after `timeout` seconds.
    public static func waitUntilListening(port: Int, what: String, timeout: Double = 20) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !isListening(port: port) {
            if Date() > deadline { throw TestServiceError.notReady("\(what) on port \(port)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

public enum TestServiceError: Error, CustomStringConvertible {
    case notReady(String)
    case missing(String)

    public var description: String {
        switch self {
        case .notReady(let what): "not ready in time: \(what)"
        case .missing(let what): "missing: \(what)"
        }
    }
}
