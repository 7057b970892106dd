import Foundation
import HummingbirdWSClient
import Logging
import MobyTestSupport
import Synchronization
import Testing

@testable import MobyServer

/// What one `/ws` connection received, decoded, in order.
final class StreamRecorder: Sendable {
    private let received = Mutex<[StreamMessage]>([])
    private let undecodable = Mutex<[String]>([])

    var messages: [StreamMessage] { received.withLock { $0 } }
    /// Events only (no snapshot or heartbeat).
    var events: [StreamMessage] { messages.filter { $0.type.hasPrefix("alert.") } }

    func record(_ text: String) {
        do {
            let message = try JSONDecoder().decode(StreamMessage.self, from: Data(text.utf8))
            received.withLock { $0.append(message) }
        } catch {
            undecodable.withLock { $0.append(text) }
            Issue.record("undecodable stream message: \(text)")
        }
    }

    /// The first message matching `predicate`, waiting for it up to `timeout`.
    func first(
        timeout: Duration = .seconds(30), where predicate: (StreamMessage) -> Bool
    ) async throws -> StreamMessage {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let message = messages.first(where: predicate) { return message }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("no matching message; got \(messages.map { "\($0.type)#\($0.seq)" })")
        throw CancellationError()
    }
}

/// Connects to `/ws<query>` on `port`, records every message while `body` runs, then closes.
func withAlertStream<T: Sendable>(
    port: Int, query: String = "", _ body: (StreamRecorder) async throws -> T
) async throws -> T {
    let recorder = StreamRecorder()
    let (stop, stopper) = AsyncStream<Void>.makeStream()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/ws\(query)", logger: testLogger("ws-test")
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { connection in
                    connection.addTask {
                        for try await message in inbound.messages(maxSize: 1 << 22) {
                            if case .text(let text) = message { recorder.record(text) }
                        }
                    }
                    connection.addTask {
                        for await _ in stop {}
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                    try await connection.next()
                    connection.cancelAll()
                }
            }
        }
        let result: T
        do {
            result = try await body(recorder)
        } catch {
            stopper.finish()
            group.cancelAll()
            throw error
        }
        stopper.finish()
        try await group.waitForAll()
        return result
    }
}
