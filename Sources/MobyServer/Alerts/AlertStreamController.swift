import Hummingbird
import HummingbirdWebSocket
import Logging
import MobyCore
import Synchronization

/// `GET /ws[?since=<seq>]`: the live alert stream. A new client gets a snapshot of the open
/// alerts, a reconnecting one exactly the events after its last sequence (or a snapshot when
/// those are no longer kept), then every event as it happens, and a heartbeat while idle. A
/// client that falls `bufferLimit` events behind is closed with 1013 (try again later) and
/// catches up on reconnect.
struct AlertStreamController<Context: WebSocketRequestContext & RequestContext>: Sendable {
    let store: any AlertStore
    let feed: AlertFeed
    let heartbeat: Duration
    let metrics: ServerMetrics
    /// Open streams at most (`MOBY_WS_MAX_CLIENTS`); beyond, 503 with `Retry-After`.
    let maxClients: Int

    func register<Routes: RouterMethods & _HB_SendableMetatype>(on router: Routes) where Routes.Context == Context {
        // hummingbird-websocket answers any refused upgrade request (one with `Upgrade:
        // websocket`) with 307 and closes; the JSON errors below reach plain HTTP requests.
        router.ws("/ws") { request, _ in
            if let text = request.uri.queryParameters.get("since"), (Int64(text) ?? -1) < 0 {
                throw APIError(
                    .badRequest, "invalid parameters",
                    errors: [FieldError(field: "since", message: "must be a whole number ≥ 0 (the last seq seen)")])
            }
            if feed.subscriberCount >= maxClients {
                var error = APIError(
                    .serviceUnavailable, "the alert stream has its maximum of \(maxClients) clients; try again later")
                error.headers[.retryAfter] = "10"
                throw error
            }
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                var error = APIError(.upgradeRequired, "/ws is a WebSocket: connect with Upgrade: websocket")
                error.headers[.upgrade] = "websocket"
                throw error
            }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let since = context.request.uri.queryParameters.get("since").flatMap { Int64($0) }
            try await stream(since: since, inbound: inbound, outbound: outbound, logger: context.logger)
        }
    }

    private func stream(
        since: Int64?, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger
    ) async throws {
        let (id, events) = feed.subscribe()
        metrics.webSocketClients.increment()
        defer {
            feed.unsubscribe(id)
            metrics.webSocketClients.decrement()
        }
        let last = LastSequence()
        if let since, let missed = try await store.events(after: since, limit: feed.bufferLimit * 10) {
            for event in missed { try await outbound.write(.text(event.message)) }
            last.set(missed.last?.sequence ?? since)
            // Says at once that the stream is up and caught up (with nothing missed, nothing
            // else would come until an event or the next heartbeat): clients count a connection
            // as live from its first message, not from the upgrade.
            try await outbound.write(
                .text(
                    StreamMessage(type: "heartbeat", seq: last.value, at: RFC3339.format(WallClock.nanoseconds()))
                        .encoded()))
        } else {
            let snapshot = try await store.snapshot()
            let reason = since.map { "events after \($0) are not available; here is the current state" }
            try await outbound.write(
                .text(
                    StreamMessage(
                        type: "snapshot", seq: snapshot.sequence, at: RFC3339.format(WallClock.nanoseconds()),
                        alerts: snapshot.alerts.map(AlertDocument.init), reason: reason
                    ).encoded()))
            last.set(snapshot.sequence)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Ends when the client closes; what clients send is not used.
                for try await _ in inbound {}
            }
            group.addTask {
                for await event in events where event.sequence > last.value {
                    // Dropped (counted by the alert center): what is still buffered would only
                    // delay the close; the client catches up with ?since= on reconnect.
                    if feed.wasDropped(id) { break }
                    try await outbound.write(.text(event.message))
                    last.set(event.sequence)
                }
                if feed.wasDropped(id) {
                    logger.warning("alert stream client too slow; closed", metadata: ["last_seq": "\(last.value)"])
                    try await outbound.close(.unknown(1013), reason: "too slow; reconnect with ?since=<last seq>")
                }
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: heartbeat)
                    let message = StreamMessage(
                        type: "heartbeat", seq: last.value, at: RFC3339.format(WallClock.nanoseconds()))
                    try await outbound.write(.text(message.encoded()))
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

/// The sequence number of the last event sent to one client, shared by its writer tasks.
private final class LastSequence: Sendable {
    private let storage = Atomic<Int64>(0)

    var value: Int64 { storage.load(ordering: .relaxed) }

    func set(_ sequence: Int64) { storage.store(sequence, ordering: .relaxed) }
}
