import Synchronization

/// Fans alert events out to WebSocket clients. Each client has a bounded buffer; a client that
/// falls that far behind is dropped (its stream ends, it reconnects with its last sequence and
/// catches up from the log) so one slow browser never slows the pipeline or other clients.
final class AlertFeed: Sendable {
    private struct State {
        var next = 0
        var subscribers: [Int: AsyncStream<AlertEvent>.Continuation] = [:]
        var dropped: Set<Int> = []
    }

    /// Events a client may have in flight before it is dropped.
    let bufferLimit: Int
    private let state = Mutex(State())

    init(bufferLimit: Int) {
        self.bufferLimit = bufferLimit
    }

    /// A new subscription; events published from now on arrive on its stream.
    func subscribe() -> (id: Int, events: AsyncStream<AlertEvent>) {
        let (stream, continuation) = AsyncStream<AlertEvent>.makeStream(bufferingPolicy: .bufferingOldest(bufferLimit))
        let id = state.withLock { state in
            state.next += 1
            state.subscribers[state.next] = continuation
            return state.next
        }
        return (id, stream)
    }

    func unsubscribe(_ id: Int) {
        let continuation = state.withLock { state in
            state.dropped.remove(id)
            return state.subscribers.removeValue(forKey: id)
        }
        continuation?.finish()
    }

    /// Whether the subscription ended because the client was too slow.
    func wasDropped(_ id: Int) -> Bool { state.withLock { $0.dropped.contains(id) } }

    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Hands `event` to every subscriber; returns how many were dropped for being too slow.
    @discardableResult
    func publish(_ event: AlertEvent) -> Int {
        let subscribers = state.withLock { $0.subscribers }
        var slow: [Int] = []
        for (id, continuation) in subscribers {
            if case .dropped = continuation.yield(event) { slow.append(id) }
        }
        guard !slow.isEmpty else { return 0 }
        let finished = state.withLock { state in
            slow.compactMap { id -> AsyncStream<AlertEvent>.Continuation? in
                state.dropped.insert(id)
                return state.subscribers.removeValue(forKey: id)
            }
        }
        for continuation in finished { continuation.finish() }
        return slow.count
    }

    /// Ends every subscription (server shutdown).
    func finishAll() {
        let all = state.withLock { state in
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for continuation in all { continuation.finish() }
    }
}
