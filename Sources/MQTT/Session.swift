import Logging
import Synchronization

/// The lock-protected heart of an `MQTTClient`, shared by the application's tasks and the
/// connection handlers: it wraps the pure `SessionState`, knows the current connection, resumes
/// callers, reports connection events and owns the inbound message buffer.
final class Session: Sendable {
    /// How a suspended caller is resumed.
    enum Waiter: Sendable {
        case publish(CheckedContinuation<Void, any Error>)
        /// Publish `index` of a batch (`MQTTClient.publish(contentsOf:qos:)`, `publishEach`).
        case batch(PublishBatch, index: Int)
        case subscribe(CheckedContinuation<[MQTTQoS], any Error>, filters: [String])
        case unsubscribe(CheckedContinuation<Void, any Error>)
    }

    enum Lifecycle {
        case idle
        case running
        case stopping
        case stopped
    }

    private struct Locked {
        var state: SessionState<Waiter>
        var lifecycle = Lifecycle.idle
        var connection: Connection?
        var attempt: (any Channel)?
        var generation: UInt64 = 0
        var listeners: [UInt64: AsyncStream<MQTTConnectionEvent>.Continuation] = [:]
        var nextListener: UInt64 = 0
        var sleeper: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var nextSleeper: UInt64 = 0
    }

    let inbound: InboundBuffer
    let logger: Logger
    private let locked: Mutex<Locked>
    private let requestIDs = Atomic<UInt64>(0)

    init(configuration: MQTTConfiguration, logger: Logger) {
        inbound = InboundBuffer(capacity: configuration.inboundBufferSize)
        self.logger = logger
        locked = Mutex(Locked(state: SessionState(maxInflight: configuration.maxInflightOutgoing)))
    }

    var isConnected: Bool { locked.withLock { $0.connection != nil } }

    var currentConnection: Connection? { locked.withLock { $0.connection } }

    var lifecycle: Lifecycle { locked.withLock { $0.lifecycle } }

    var subscriptions: [MQTTSubscription] { locked.withLock { $0.state.subscriptions } }

    var inflightCount: Int { locked.withLock { $0.state.outgoing.count } }

    func nextRequestID() -> UInt64 {
        requestIDs.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// `count` consecutive request ids.
    func nextRequestIDs(_ count: Int) -> Range<UInt64> {
        let last = requestIDs.wrappingAdd(UInt64(count), ordering: .relaxed).newValue
        return (last - UInt64(count) + 1)..<(last + 1)
    }

    // MARK: Application requests

    /// The current connection when a QoS 0 publish can go out right away (nothing queued before it).
    func connectionForImmediatePublish() -> Connection? {
        locked.withLock { $0.state.queue.isEmpty ? $0.connection : nil }
    }

    /// Registers a publish; returns true when it is still waiting for a connection or a slot.
    func publish(_ publish: MQTTPublish, requestID: UInt64, waiter: Waiter) -> Bool {
        perform { state in
            guard !Task.isCancelled else { return Self.failure(waiter, CancellationError()) }
            return state.publish(publish, requestID: requestID, waiter: waiter)
        } queued: { state in
            state.queue.last?.requestID == requestID
        }
    }

    /// Registers the publishes of a batch, in order, under one lock and with one write to the
    /// connection; returns true when some wait for a connection or a slot.
    func publish(contentsOf publishes: [(publish: MQTTPublish, requestID: UInt64)], batch: PublishBatch) -> Bool {
        perform { state in
            let items = publishes.enumerated().map { index, item in
                (publish: item.publish, requestID: item.requestID, waiter: Waiter.batch(batch, index: index))
            }
            guard !Task.isCancelled else {
                var effects = SessionEffects<Waiter>()
                for item in items { effects.completions.append((item.waiter, .failure(CancellationError()))) }
                return effects
            }
            return state.publish(contentsOf: items)
        } queued: { state in
            !state.queue.isEmpty
        }
    }

    func subscribe(_ filters: [MQTTSubscription], requestID: UInt64, waiter: Waiter) {
        _ = perform { state in
            guard !Task.isCancelled else { return Self.failure(waiter, CancellationError()) }
            return state.subscribe(filters, requestID: requestID, waiter: waiter)
        }
    }

    func unsubscribe(_ filters: [String], requestID: UInt64, waiter: Waiter) {
        _ = perform { state in
            guard !Task.isCancelled else { return Self.failure(waiter, CancellationError()) }
            return state.unsubscribe(filters, requestID: requestID, waiter: waiter)
        }
    }

    func cancel(requestID: UInt64) {
        _ = perform { $0.cancel(requestID: requestID) }
    }

    func expire(requestID: UInt64) {
        _ = perform { $0.expire(requestID: requestID) }
    }

    private static func failure(_ waiter: Waiter, _ error: any Error) -> SessionEffects<Waiter> {
        var effects = SessionEffects<Waiter>()
        effects.completions.append((waiter, .failure(error)))
        return effects
    }

    /// Applies an application-side event: packets go to the current connection's outbox.
    private func perform(
        _ body: @Sendable (inout SessionState<Waiter>) -> SessionEffects<Waiter>,
        queued: @Sendable (SessionState<Waiter>) -> Bool = { _ in false }
    ) -> Bool {
        let (effects, connection, isQueued) = locked.withLock { locked in
            let effects = body(&locked.state)
            return (effects, locked.connection, queued(locked.state))
        }
        if !effects.packets.isEmpty { connection?.send(contentsOf: effects.packets) }
        complete(effects)
        return isQueued
    }

    private func complete(_ effects: SessionEffects<Waiter>) {
        for warning in effects.warnings { logger.warning("\(warning)") }
        for (waiter, result) in effects.completions {
            switch (waiter, result) {
            case (.publish(let continuation), .success), (.unsubscribe(let continuation), .success):
                continuation.resume()
            case (.subscribe(let continuation, let filters), .success(let completion)):
                guard case .subscribed(let codes) = completion else {
                    continuation.resume(throwing: MQTTClientError.protocolError(.unexpectedPacket(.suback)))
                    continue
                }
                let refused = zip(filters, codes).filter { $0.1 == .failure }.map(\.0)
                if refused.isEmpty {
                    continuation.resume(
                        returning: codes.map { code in
                            if case .granted(let qos) = code { qos } else { .atMostOnce }
                        })
                } else {
                    continuation.resume(throwing: MQTTClientError.subscriptionRefused(refused))
                }
            case (.publish(let continuation), .failure(let error)),
                (.unsubscribe(let continuation), .failure(let error)):
                continuation.resume(throwing: error)
            case (.subscribe(let continuation, _), .failure(let error)):
                continuation.resume(throwing: error)
            case (.batch(let batch, let index), .success):
                batch.completed(index, nil)
            case (.batch(let batch, let index), .failure(let error)):
                batch.completed(index, error)
            }
        }
    }

    // MARK: Connection events (on the connection's event loop)

    func nextGeneration() -> UInt64 {
        locked.withLock { locked in
            locked.generation += 1
            return locked.generation
        }
    }

    /// CONNACK accepted: the connection becomes current; returns what to write on it first.
    func connectionEstablished(_ connection: Connection, sessionPresent: Bool) -> [MQTTPacket] {
        let (effects, listeners) = locked.withLock { locked in
            locked.connection = connection
            return (locked.state.connected(sessionPresent: sessionPresent), Array(locked.listeners.values))
        }
        complete(effects)
        for listener in listeners { listener.yield(.connected(sessionPresent: sessionPresent)) }
        return effects.packets
    }

    func connectionLost(_ connection: Connection, reason: MQTTClientError) {
        let listeners = locked.withLock { locked -> [AsyncStream<MQTTConnectionEvent>.Continuation] in
            guard locked.connection === connection else { return [] }
            locked.connection = nil
            locked.state.disconnected()
            return Array(locked.listeners.values)
        }
        for listener in listeners { listener.yield(.disconnected(reason)) }
    }

    /// The PUBACKs of one read burst; returns the packets to send (publishes that now have a slot).
    func acknowledged(pubAcks packetIDs: [UInt16]) -> [MQTTPacket] {
        let effects = locked.withLock { $0.state.pubAcks(packetIDs) }
        complete(effects)
        return effects.packets
    }

    /// An acknowledgement from the broker; returns the packets to answer with.
    func acknowledged(_ packet: MQTTPacket) -> [MQTTPacket] {
        let effects = locked.withLock { locked -> SessionEffects<Waiter> in
            switch packet {
            case .puback(let id): locked.state.pubAck(packetID: id)
            case .pubrec(let id): locked.state.pubRec(packetID: id)
            case .pubcomp(let id): locked.state.pubComp(packetID: id)
            case .suback(let suback): locked.state.subAck(suback)
            case .unsuback(let id): locked.state.unsubAck(packetID: id)
            default: SessionEffects()
            }
        }
        complete(effects)
        return effects.packets
    }

    // MARK: Events for observers

    func emit(_ event: MQTTConnectionEvent) {
        for listener in locked.withLock({ Array($0.listeners.values) }) { listener.yield(event) }
    }

    func connectionEvents() -> AsyncStream<MQTTConnectionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: MQTTConnectionEvent.self, bufferingPolicy: .bufferingNewest(256))
        let (id, stopped) = locked.withLock { locked in
            locked.nextListener += 1
            guard locked.lifecycle != .stopped else { return (locked.nextListener, true) }
            locked.listeners[locked.nextListener] = continuation
            return (locked.nextListener, false)
        }
        if stopped {
            continuation.finish()
        } else {
            continuation.onTermination = { [weak self] _ in
                _ = self?.locked.withLock { $0.listeners.removeValue(forKey: id) }
            }
        }
        return stream
    }

    // MARK: Run loop support

    /// idle → running; false if the client already ran.
    func start() -> Bool {
        locked.withLock { locked in
            guard locked.lifecycle == .idle else { return false }
            locked.lifecycle = .running
            return true
        }
    }

    var isRunning: Bool { locked.withLock { $0.lifecycle == .running } }

    /// Remembers the channel being connected so that a shutdown can close it; false when stopping.
    func registerAttempt(_ channel: (any Channel)?) -> Bool {
        locked.withLock { locked in
            guard locked.lifecycle == .running || channel == nil else { return false }
            locked.attempt = channel
            return true
        }
    }

    /// running → stopping (idle → stopped): wakes the run loop; returns what must be closed.
    func beginShutdown() -> (connection: Connection?, attempt: (any Channel)?) {
        typealias Outcome = (
            result: (connection: Connection?, attempt: (any Channel)?),
            sleeper: CheckedContinuation<Void, Never>?, finishNow: Bool
        )
        let (result, sleeper, finishNow) = locked.withLock { locked -> Outcome in
            let sleeper = locked.sleeper?.continuation
            locked.sleeper = nil
            switch locked.lifecycle {
            case .idle:
                locked.lifecycle = .stopping
                return ((nil, nil), sleeper, true)
            case .running:
                locked.lifecycle = .stopping
                return ((locked.connection, locked.attempt), sleeper, false)
            case .stopping, .stopped:
                return ((locked.connection, locked.attempt), sleeper, false)
            }
        }
        sleeper?.resume()
        if finishNow { finalize() }
        return result
    }

    /// The client is done: fails every waiting caller, ends the message and event streams.
    func finalize() {
        let (effects, listeners) = locked.withLock { locked in
            locked.lifecycle = .stopped
            locked.connection = nil
            locked.attempt = nil
            let listeners = Array(locked.listeners.values)
            locked.listeners = [:]
            return (locked.state.stop(), listeners)
        }
        complete(effects)
        inbound.finish()
        for listener in listeners { listener.finish() }
    }

    /// Sleeps for `delay` unless a shutdown begins first.
    func sleep(for delay: Duration, on eventLoop: any EventLoop) async {
        let id = locked.withLock { locked in
            locked.nextSleeper += 1
            return locked.nextSleeper
        }
        let wake: @Sendable () -> Void = { [self] in
            let continuation = locked.withLock { locked -> CheckedContinuation<Void, Never>? in
                guard let sleeper = locked.sleeper, sleeper.id == id else { return nil }
                locked.sleeper = nil
                return sleeper.continuation
            }
            continuation?.resume()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = locked.withLock { locked -> Bool in
                guard locked.lifecycle == .running else { return true }
                locked.sleeper = (id, continuation)
                return false
            }
            if now {
                continuation.resume()
                return
            }
            // Scheduled only once the sleeper is registered: a short delay that fired before
            // would find no one to wake, and the reconnect loop would sleep forever. A timer
            // that fires after shutdown woke the sleeper finds another id and does nothing.
            eventLoop.scheduleTask(in: TimeAmount(delay)) { wake() }
        }
    }
}

/// The publishes of one `publish(contentsOf:qos:)` or `publishEach` call: its caller is resumed
/// once, when every one of them completed, with each one's outcome, instead of once per message.
final class PublishBatch: Sendable {
    private struct State {
        var remaining: Int
        var errors: [(any Error)?]
        var continuation: CheckedContinuation<[(any Error)?], Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(remaining: count, errors: Array(repeating: nil, count: count)))
    }

    /// Stores the caller's continuation; resumes it at once if everything already completed.
    func wait(_ continuation: CheckedContinuation<[(any Error)?], Never>) {
        let done = state.withLock { state -> [(any Error)?]? in
            guard state.remaining > 0 else { return state.errors }
            state.continuation = continuation
            return nil
        }
        if let done { continuation.resume(returning: done) }
    }

    /// Publish `index` completed (`error` nil) or failed.
    func completed(_ index: Int, _ error: (any Error)?) {
        let resume = state.withLock { state -> (CheckedContinuation<[(any Error)?], Never>, [(any Error)?])? in
            guard state.remaining > 0 else { return nil }
            state.errors[index] = error
            state.remaining -= 1
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.errors)
        }
        if let (continuation, errors) = resume { continuation.resume(returning: errors) }
    }
}
