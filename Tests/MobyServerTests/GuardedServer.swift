import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import MobyTestSupport
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

@testable import MobyServer

/// MOBY's HTTP server (`HTTPServerBuilder.guarded`) with a small router of its own, so the
/// connection rules are tested without MQTT, InfluxDB or the alert store: `/health`, `/echo`
/// (POST, answers its body), `/slow`
/// (answers after 1.5 s) and `/ws` (a WebSocket that stays open and sends nothing).
final class GuardedServer: Sendable {
    let port: Int
    private let group: ServiceGroup
    /// Every client connection the test opened through `connect()`, closed before shutdown so
    /// a failing test does not leave the server waiting for them.
    private let clients = Mutex<[RawConnection]>([])
    /// Finishes when the server's service group has returned.
    private let stopped: AsyncStream<Void>

    /// Runs the server for `body`, then shuts it down (failing the test if that takes over 20 s).
    /// With `https`, TLS wraps the guard as in `buildApplication`.
    static func with<T>(
        limits: HTTPLimits, https: HTTPSFiles? = nil, _ body: (GuardedServer) async throws -> T
    ) async throws -> T {
        let router = Router(context: MobyRequestContext.self)
        router.get("/health") { _, _ in "ok" }
        router.post("/echo") { request, _ in
            String(buffer: try await request.body.collect(upTo: 1_024))
        }
        router.get("/slow") { _, _ in
            try await Task.sleep(for: .milliseconds(1_500))
            return "done"
        }
        router.ws("/ws") { _, _ in
            .upgrade([:])
        } onUpgrade: { inbound, _, _ in
            for try await _ in inbound {}
        }
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        var server = HTTPServerBuilder.guarded(
            webSocketRouter: router, webSocket: .init(autoPing: .disabled), limits: limits, metrics: ServerMetrics())
        if let https { server = try .tls(server, tlsConfiguration: https.configuration()) }
        let app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: testLogger())
        let group = ServiceGroup(configuration: .init(services: [app], logger: testLogger()))
        let (stopped, stoppedSink) = AsyncStream<Void>.makeStream()
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { stoppedSink.finish() }
                try await group.run()
            }
            defer { tasks.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let server = GuardedServer(port: port, group: group, stopped: stopped)
            let result: Result<T, any Error>
            do {
                result = .success(try await body(server))
            } catch {
                result = .failure(error)
            }
            for client in server.clients.withLock({ $0 }) { await client.close() }
            _ = try await server.shutdown(timeout: .seconds(20))
            return try result.get()
        }
    }

    private init(port: Int, group: ServiceGroup, stopped: AsyncStream<Void>) {
        self.port = port
        self.group = group
        self.stopped = stopped
    }

    /// A new raw connection to the server.
    func connect(from source: String = "127.0.0.1") async throws -> RawConnection {
        let connection = try await RawConnection.open(port: port, from: source)
        clients.withLock { $0.append(connection) }
        return connection
    }

    /// Starts graceful shutdown (as SIGTERM does) and returns how long until the server stopped.
    func shutdown(timeout: Duration) async throws -> Duration {
        let start = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await waitOrFail(timeout: timeout, "the server to shut down") { [stopped] in
            for await _ in stopped {}
        }
        return ContinuousClock.now - start
    }
}

/// Runs `operation`, recording an issue and throwing when it takes longer than `timeout`.
func waitOrFail<T: Sendable>(
    timeout: Duration, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let result = try await group.next(), let value = result else {
            Issue.record("timed out after \(timeout) waiting for \(what)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return value
    }
}
