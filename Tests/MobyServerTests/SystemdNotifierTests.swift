import Foundation
import Logging
import MobyTestSupport
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

@testable import MobyServer

#if canImport(Glibc)
    import Glibc
#endif

/// A datagram socket standing where systemd's notification socket would, and what arrived.
final class NotifySocket: Sendable {
    let path: String
    private let descriptor: Int32
    private let received = Mutex<[String]>([])

    /// Bound to a fresh path, or to an abstract name when `abstract`.
    init(abstract: Bool = false) throws {
        let name = "moby-notify-\(UUID().uuidString.prefix(8))"
        path = abstract ? "@" + name : FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard descriptor >= 0, bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    deinit {
        close(descriptor)
        if !path.hasPrefix("@") { unlink(path) }
    }

    /// Everything received so far (reads what waits in the socket first).
    var messages: [String] {
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count > 0 else { break }
            let lines = String(decoding: buffer[..<count], as: UTF8.self)
            received.withLock { $0.append(lines) }
        }
        return received.withLock { $0 }
    }

    /// The messages holding `line`.
    func count(_ line: String) -> Int {
        messages.filter { $0.split(separator: "\n").contains(Substring(line)) }.count
    }
}

@Suite struct SystemdNotifierTests {
    @Test(arguments: [false, true])
    func linesArriveAsOneDatagram(abstract: Bool) throws {
        let socket = try NotifySocket(abstract: abstract)
        try SystemdNotifier(socketPath: socket.path).send("READY=1\nSTATUS=serving")
        #expect(socket.messages == ["READY=1\nSTATUS=serving"])
    }

    @Test func aMissingSocketIsAnErrorThatNamesIt() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-notify-socket").path
        #expect {
            try SystemdNotifier(socketPath: path).send("READY=1")
        } throws: { error in
            "\(error)".contains(path)
        }
        #expect(throws: SystemdNotifier.Failure.self) {
            try SystemdNotifier(socketPath: "/" + String(repeating: "x", count: 200)).send("READY=1")
        }
    }

    @Test func systemdsVariablesAreRead() throws {
        func configuration(_ environment: [String: String]) throws -> ServerConfiguration {
            guard
                case .run(let reader) = try ServerCommandLine.parse(
                    [], environment: environment.merging(["MOBY_CATALOG_FILE": TestPaths.catalog]) { $1 })
            else { throw CancellationError() }
            return try ServerConfiguration(reader: reader)
        }
        #expect(try configuration([:]).systemd == nil)
        #expect(
            try configuration(["NOTIFY_SOCKET": "/run/systemd/notify"]).systemd
                == SystemdNotification(socketPath: "/run/systemd/notify"))
        let watched = ["NOTIFY_SOCKET": "@notify", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"]
        #expect(
            try configuration(watched).systemd == SystemdNotification(socketPath: "@notify", watchdog: .seconds(30)))
        // The watchdog of another process (a wrapper systemd started) is not ours.
        #expect(
            try configuration(watched.merging(["WATCHDOG_PID": "1"]) { $1 }).systemd
                == SystemdNotification(socketPath: "@notify"))
        #expect {
            try configuration(watched.merging(["WATCHDOG_USEC": "soon"]) { $1 })
        } throws: { error in
            "\(error)".contains("WATCHDOG_USEC") && "\(error)".contains("soon")
        }
    }

    @Test func pingsWhileEveryLoopAnswersStopWhileOneHangsAndStoppingEnds() async throws {
        let socket = try NotifySocket()
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        // Pings every 150 ms.
        let watchdog = WatchdogService(
            notifier: SystemdNotifier(socketPath: socket.path), interval: .milliseconds(300),
            loops: Array(loops.makeIterator()), logger: testLogger())
        let group = ServiceGroup(
            configuration: .init(services: [watchdog], gracefulShutdownSignals: [], logger: testLogger()))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await eventually("three pings", timeout: .seconds(10)) { socket.count("WATCHDOG=1") >= 3 }

            // One loop hangs for 1.5 s: at most the ping of a probe answered before, then none
            // (about nine would come in 1.4 s otherwise).
            let atHang = socket.count("WATCHDOG=1")
            loops.next().execute { usleep(1_500_000) }
            try await Task.sleep(for: .milliseconds(1_400))
            let during = socket.count("WATCHDOG=1") - atHang
            #expect(during <= 2, "pinged while a loop hung: \(during)")
            let before = socket.count("WATCHDOG=1")
            try await eventually("pings after the loop answers again", timeout: .seconds(10)) {
                socket.count("WATCHDOG=1") >= before + 2
            }

            let stopping = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.next()
            #expect(ContinuousClock.now - stopping < .seconds(2), "the watchdog ends with the shutdown")
            #expect(socket.count("STOPPING=1") == 1)
        }
        try await loops.shutdownGracefully()
    }

    @Test func theServerTellsSystemdItIsReadyOnceItServesAndThatItStops() async throws {
        let socket = try NotifySocket()
        try await PipelineFixture.with { fixture in
            let configuration = try fixture.configuration(["notify.socket": socket.path])
            let app = try await buildApplication(configuration: configuration, logger: testLogger())
            try await app.test(.live) { client in
                try await eventually("READY=1") { socket.count("READY=1") == 1 }
                let ready = socket.messages.first { $0.hasPrefix("READY=1") } ?? ""
                #expect(ready.contains("STATUS=serving HTTP on"), "\(ready)")
                #expect(try await client.execute(uri: "/health", method: .get) { $0.status } == .ok)
                #expect(socket.count("STOPPING=1") == 0)
            }
            #expect(socket.count("STOPPING=1") == 1, "\(socket.messages)")
            #expect(socket.count("WATCHDOG=1") == 0, "no WATCHDOG_USEC, no pings")
        }
    }
}
