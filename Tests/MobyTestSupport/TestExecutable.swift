import Foundation

/// The project's own executables (moby-server, moby-sensor) as built next to the test bundle.
public enum TestExecutable {
    /// The folder holding the test bundle, which also holds the package's executables.
    public static var binDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    public static func path(_ name: String) throws -> String {
        let path = binDirectory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestServiceError.missing("\(path) (run `swift build --build-tests` first)")
        }
        return path
    }
}

/// A moby-server process started from the built executable, for tests that kill it.
public final class TestServerProcess: Sendable {
    public let httpPort: Int
    public let process: ServiceProcess

    public init(environment: [String: String], directory: URL) throws {
        httpPort = Loopback.freePort()
        var env = environment
        env["MOBY_HTTP_PORT"] = "\(httpPort)"
        process = ServiceProcess(
            name: "moby-server", executable: try TestExecutable.path("moby-server"), arguments: [],
            environment: env, logFile: directory.appendingPathComponent("moby-server.log"))
    }

    /// Starts the server and waits until `/health/ready` answers 200.
    public func start(timeout: Double = 30) async throws {
        try process.start()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if HTTPProbe.status(port: httpPort, path: "/health/ready") == 200 { return }
            guard process.isRunning else {
                throw TestServiceError.notReady("moby-server exited:\n\(process.logTail())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServiceError.notReady("moby-server on \(httpPort):\n\(process.logTail())")
    }
}

/// A minimal HTTP/1.0 GET over a socket, for readiness checks without a client library.
public enum HTTPProbe {
    /// The status code of `GET path`, or nil when nothing answers.
    public static func status(port: Int, path: String) -> Int? {
        get(port: port, path: path)?.status
    }

    /// Status and body of `GET path`.
    public static func get(port: Int, path: String) -> (status: Int, body: String)? {
        guard let fd = Loopback.connect(port: port) else { return nil }
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return nil }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { break }
            response.append(contentsOf: chunk[0..<count])
        }
        let text = String(decoding: response, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }
}
