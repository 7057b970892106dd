import Synchronization

/// A PUBLISH received from the broker, handed to the application, and acknowledged by it with
/// `MQTTClient.acknowledge(_:)` once it has been dealt with (for example durably stored).
public struct MQTTMessage: Sendable {
    public let topic: String
    public let payload: ByteBuffer
    public let qos: MQTTQoS
    public let retain: Bool
    public let duplicate: Bool
    public let packetID: UInt16?
    /// Set when the client refused the PUBLISH (too large, unusable topic): the application
    /// should dead-letter it and acknowledge it like any other message, so the broker does not
    /// redeliver it. The payload of a too-large one holds only its first bytes.
    public let refusal: MQTTRefusal?
    /// The connection the message arrived on: acknowledging on a later connection is a no-op.
    let connection: Connection?

    /// A message that belongs to no connection (acknowledging it does nothing); for tests and fakes.
    public init(
        topic: String, payload: ByteBuffer, qos: MQTTQoS = .atMostOnce, retain: Bool = false,
        duplicate: Bool = false, packetID: UInt16? = nil, refusal: MQTTRefusal? = nil
    ) {
        self.init(
            topic: topic, payload: payload, qos: qos, retain: retain, duplicate: duplicate, packetID: packetID,
            refusal: refusal, connection: nil)
    }

    init(
        topic: String, payload: ByteBuffer, qos: MQTTQoS, retain: Bool, duplicate: Bool, packetID: UInt16?,
        refusal: MQTTRefusal?, connection: Connection?
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.duplicate = duplicate
        self.packetID = packetID
        self.refusal = refusal
        self.connection = connection
    }

    /// The number of the connection the message arrived on (0 for messages made by `init`).
    public var connectionGeneration: UInt64 { connection?.generation ?? 0 }
}

/// The stream of received messages of one client, for a single consumer. It ends when
/// `MQTTClient.run()` returns (after the messages already buffered).
public struct MQTTMessages: AsyncSequence, Sendable {
    public typealias Element = MQTTMessage
    public typealias Failure = Never

    let buffer: InboundBuffer

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer)
    }

    /// Ends the consumer's iteration now, also a wait for the next message; messages buffered or
    /// still arriving are not delivered (nor acknowledged: the broker redelivers them to the next
    /// session). For a graceful shutdown without wrapping the stream in another sequence (each
    /// element of `cancelOnGracefulShutdown()` crosses a task of its own).
    public func stopDelivering() { buffer.stopDelivering() }

    /// The same messages in runs: each element holds everything buffered when the consumer asked
    /// (at least one message, at most `maximum`), so a busy consumer pays one suspension per run
    /// instead of one per message.
    public func runs(upTo maximum: Int) -> Runs {
        Runs(buffer: buffer, maximum: Swift.max(maximum, 1))
    }

    /// Received messages in arrival order, grouped into runs; see `runs(upTo:)`.
    public struct Runs: AsyncSequence, Sendable {
        public typealias Element = [MQTTMessage]
        public typealias Failure = Never

        let buffer: InboundBuffer
        let maximum: Int

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(buffer: buffer, maximum: maximum)
        }

        /// Yields the next run, suspending while nothing is buffered.
        public struct AsyncIterator: AsyncIteratorProtocol {
            let buffer: InboundBuffer
            let maximum: Int

            public mutating func next() async -> [MQTTMessage]? {
                await buffer.nextRun(upTo: maximum)
            }

            public mutating func next(isolation actor: isolated (any Actor)?) async -> [MQTTMessage]? {
                await buffer.nextRun(upTo: maximum)
            }
        }
    }

    /// Yields the next buffered message, suspending while there is none.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: InboundBuffer

        public mutating func next() async -> MQTTMessage? {
            await buffer.next()
        }

        /// Runs on the caller's executor: no hop per message for consumers on an actor.
        public mutating func next(isolation actor: isolated (any Actor)?) async -> MQTTMessage? {
            await buffer.next()
        }
    }
}

/// The bounded queue between the connection (producer, on its event loop) and the application
/// (consumer). The producer never drops: it appends whole read bursts and asks `shouldRead` before
/// each socket read; when the queue is full the read is held until the consumer has drained it
/// to half its capacity.
final class InboundBuffer: Sendable {
    private struct State {
        var messages = CircularBuffer<MQTTMessage>(initialCapacity: 64)
        var waiter: CheckedContinuation<MQTTMessage?, Never>?
        var waiterID: UInt64 = 0
        var finished = false
        /// The consumer stopped taking messages (`stopDelivering()`).
        var stopped = false
        var resumeReading: (@Sendable () -> Void)?
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    var count: Int { state.withLock { $0.messages.count } }

    /// Adds a read burst; wakes the consumer if it waits.
    func append(contentsOf batch: [MQTTMessage]) {
        guard !batch.isEmpty else { return }
        let waiter = state.withLock { state -> (CheckedContinuation<MQTTMessage?, Never>, MQTTMessage)? in
            guard !state.finished else { return nil }
            var rest = batch[...]
            if let waiter = state.waiter {
                state.waiter = nil
                let first = rest.removeFirst()
                state.messages.append(contentsOf: rest)
                return (waiter, first)
            }
            state.messages.append(contentsOf: rest)
            return nil
        }
        if let (continuation, message) = waiter { continuation.resume(returning: message) }
    }

    /// True when the producer may read more from the socket. Otherwise `resume` is kept and called
    /// once the consumer has made room. While our own publishes await their acknowledgement
    /// (`awaitingAnswers`), reading goes on up to twice the capacity: the acknowledgements come
    /// through the same socket, and the consumer may be the one waiting for them.
    func shouldRead(awaitingAnswers: Bool = false, orWhenReady resume: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            let limit = awaitingAnswers ? 2 * capacity : capacity
            if state.finished || state.messages.count < limit {
                state.resumeReading = nil
                return true
            }
            state.resumeReading = resume
            return false
        }
    }

    /// Forgets a pending `resume` (its connection is gone).
    func cancelResume() {
        state.withLock { $0.resumeReading = nil }
    }

    /// Ends the stream after the buffered messages.
    func finish() {
        let (waiter, resume) = state.withLock { state in
            state.finished = true
            defer {
                state.waiter = nil
                state.resumeReading = nil
            }
            return (state.waiter, state.resumeReading)
        }
        waiter?.resume(returning: nil)
        resume?()
    }

    /// Ends delivery to the consumer; wakes it if it waits.
    func stopDelivering() {
        let waiter = state.withLock { state in
            state.stopped = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    nonisolated(nonsending) func next() async -> MQTTMessage? {
        let (message, resume, finished) = state.withLock {
            state -> (MQTTMessage?, (@Sendable () -> Void)?, Bool) in
            if state.stopped { return (nil, nil, true) }
            let message = state.messages.popFirst()
            return (message, takeResume(&state), state.finished)
        }
        resume?()
        if let message { return message }
        if finished { return nil }
        let id = state.withLock { state in
            state.waiterID &+= 1
            return state.waiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<MQTTMessage?, Never>) in
                let immediate = state.withLock { state -> MQTTMessage?? in
                    if state.stopped { return .some(nil) }
                    if let message = state.messages.popFirst() { return .some(message) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    precondition(state.waiter == nil, "MQTTMessages supports a single consumer")
                    state.waiter = continuation
                    state.waiterID = id
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<MQTTMessage?, Never>? in
                guard state.waiterID == id, let waiter = state.waiter else { return nil }
                state.waiter = nil
                return waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// The first buffered message (waiting for one if needed) and up to `maximum - 1` more that
    /// are already buffered; nil once finished and drained.
    nonisolated(nonsending) func nextRun(upTo maximum: Int) async -> [MQTTMessage]? {
        guard let first = await next() else { return nil }
        var run = [first]
        let resume = state.withLock { state -> (@Sendable () -> Void)? in
            let count = min(state.messages.count, maximum - 1)
            guard count > 0 else { return nil }
            run.reserveCapacity(count + 1)
            for _ in 0..<count { run.append(state.messages.removeFirst()) }
            return takeResume(&state)
        }
        resume?()
        return run
    }

    private func takeResume(_ state: inout State) -> (@Sendable () -> Void)? {
        guard let resume = state.resumeReading, state.messages.count <= capacity / 2 else { return nil }
        state.resumeReading = nil
        return resume
    }
}
