import Logging
import NIOPosix
import NIOSSL

/// An MQTT 3.1.1 client built for ingest: received messages are acknowledged by the application
/// (`acknowledge(_:)`) only once it has dealt with them, so a broker's redelivery covers a crash;
/// outgoing QoS 1/2 publishes survive reconnects until the broker acknowledges them; the
/// connection is kept up with backoff by `run()`.
public final class MQTTClient: Sendable {
    public let configuration: MQTTConfiguration
    let session: Session
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    public init(
        configuration: MQTTConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        var logger = logger
        logger[metadataKey: "mqtt.client"] = "\(configuration.clientID)"
        self.logger = logger
        self.session = Session(configuration: configuration, logger: logger)
    }

    // MARK: Running

    /// Connects and keeps the connection up (reconnecting with capped exponential backoff and
    /// jitter, each attempt logged) until the calling task is cancelled or `disconnect()` is
    /// called; then returns. With `reconnect == nil` it throws the first connection
    /// failure or loss instead. Callable once.
    public func run() async throws {
        guard session.start() else {
            throw session.lifecycle == .running ? MQTTClientError.alreadyRunning : MQTTClientError.shutdown
        }
        defer { session.finalize() }
        try await withTaskCancellationHandler {
            try await runLoop()
        } onCancel: {
            let (connection, attempt) = session.beginShutdown()
            _ = connection?.disconnect()
            attempt?.close(promise: nil)
        }
    }

    private func runLoop() async throws {
        var attempt = 0
        while session.isRunning {
            let reason: MQTTClientError
            do {
                let (connection, sessionPresent) = try await connect()
                attempt = 0
                logger.info(
                    "connected to MQTT broker",
                    metadata: [
                        "mqtt.broker": "\(configuration.host):\(configuration.port)",
                        "mqtt.session_present": "\(sessionPresent)",
                    ])
                reason = try await connection.closed.get()
                guard session.isRunning else { break }
                logger.warning("MQTT connection lost: \(reason)")
            } catch {
                guard session.isRunning else { break }
                reason = Self.classify(error)
                session.emit(.disconnected(reason))
                let level: Logger.Level = if case .connectionRefused = reason { .error } else { .warning }
                logger.log(
                    level: level, "MQTT connect attempt failed: \(reason)",
                    metadata: [
                        "mqtt.broker": "\(configuration.host):\(configuration.port)", "mqtt.attempt": "\(attempt + 1)",
                    ])
            }
            guard let reconnect = configuration.reconnect else { throw reason }
            attempt += 1
            let delay = reconnect.delay(attempt: attempt)
            logger.info("reconnecting to MQTT broker in \(delay)", metadata: ["mqtt.attempt": "\(attempt + 1)"])
            await session.sleep(for: delay, on: eventLoopGroup.any())
        }
    }

    /// One attempt: TCP connect, CONNECT, CONNACK. Returns the accepted connection.
    private func connect() async throws -> (Connection, sessionPresent: Bool) {
        let eventLoop = eventLoopGroup.next()
        let established = eventLoop.makePromise(of: (Connection, sessionPresent: Bool).self)
        let closed = eventLoop.makePromise(of: MQTTClientError.self)
        let generation = session.nextGeneration()
        let configuration = configuration
        let session = session
        let connectPacket = Self.connectPacket(configuration)
        let keepAlive: TimeAmount? = configuration.keepAlive > .zero ? TimeAmount(configuration.keepAlive) : nil
        let tls: NIOSSLContext?
        do {
            tls = try configuration.tls?.makeContext()
        } catch {
            let reason = MQTTClientError.connectionFailed(error.description)
            established.fail(reason)
            closed.succeed(reason)
            throw reason
        }
        // The broker's name is checked against its certificate (not for an IP address literal).
        let serverName =
            configuration.host.contains(":") || configuration.host.allSatisfy { $0.isNumber || $0 == "." }
            ? nil : configuration.host
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    let handler = MQTTConnectionHandler(
                        session: session, connect: connectPacket,
                        connectTimeout: TimeAmount(configuration.connectTimeout), keepAlive: keepAlive,
                        pingTimeout: TimeAmount(configuration.pingTimeout),
                        readGathering: TimeAmount(configuration.readGathering), generation: generation,
                        established: established, closed: closed)
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(
                            MQTTByteToPacketDecoder(
                                decoder: MQTTPacketDecoder(maxPacketSize: configuration.maxPacketSize))),
                        MessageToByteHandler(MQTTPacketEncoder()),
                        handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            let reason = Self.classify(error)
            established.fail(reason)
            closed.succeed(reason)
            throw reason
        }
        guard session.registerAttempt(channel) else {
            channel.close(promise: nil)
            _ = try? await closed.futureResult.get()
            throw MQTTClientError.shutdown
        }
        defer { _ = session.registerAttempt(nil) }
        return try await established.futureResult.get()
    }

    static func connectPacket(_ configuration: MQTTConfiguration) -> MQTTConnect {
        let seconds = configuration.keepAlive.components.seconds
        return MQTTConnect(
            cleanSession: configuration.cleanSession, keepAliveSeconds: UInt16(clamping: seconds),
            clientID: configuration.clientID, will: configuration.will, username: configuration.username,
            password: configuration.password.map { Array($0.utf8) })
    }

    /// Maps whatever ended a connection to the client's error vocabulary.
    static func classify(_ error: any Error) -> MQTTClientError {
        switch error {
        case let error as MQTTClientError: error
        case let error as MQTTProtocolError: .protocolError(error)
        case ChannelError.connectTimeout: .connectTimeout
        case let error as NIOSSLError: .connectionFailed("TLS: \(error)")
        case let error as BoringSSLError: .connectionFailed("TLS: \(error)")
        case let error as ChannelError where error == .eof || error == .ioOnClosedChannel: .connectionClosed
        default: .connectionFailed(String(describing: error))
        }
    }

    /// Sends DISCONNECT, closes the connection, stops reconnecting; `run()` then returns and
    /// waiting callers get `MQTTClientError.shutdown`.
    nonisolated(nonsending) public func disconnect() async {
        let (connection, attempt) = session.beginShutdown()
        attempt?.close(promise: nil)
        if let connection {
            _ = try? await connection.disconnect().get()
        }
    }

    // MARK: State

    /// True between an accepted CONNACK and the loss of that connection.
    public var isConnected: Bool { session.isConnected }

    /// Connection state changes (`connected(sessionPresent:)`, `disconnected(reason)`) for health
    /// reporting; each call returns a new stream (any number of readers), finished when the client stops.
    public func connectionEvents() -> AsyncStream<MQTTConnectionEvent> {
        session.connectionEvents()
    }

    /// Received messages, for a single consumer. Finishes when `run()` returns.
    public var messages: MQTTMessages { MQTTMessages(buffer: session.inbound) }

    // MARK: Receiving

    /// QoS 1: sends PUBACK; QoS 2: sends PUBREC (the broker's PUBREL is answered with PUBCOMP
    /// automatically); QoS 0: nothing. A message from an earlier connection is ignored (the broker
    /// redelivers it). Cheap and non-blocking; acknowledgements go out in call order.
    public func acknowledge(_ message: MQTTMessage) {
        guard let connection = message.connection, let packet = Self.acknowledgement(of: message) else { return }
        connection.send(packet)
    }

    /// Acknowledges `messages` in order, handing each connection its packets at once (one lock
    /// and at most one event-loop hop per run of messages from the same connection).
    public func acknowledge(contentsOf messages: some Sequence<MQTTMessage>) {
        var connection: Connection?
        var packets: [MQTTPacket] = []
        for message in messages {
            guard let owner = message.connection, let packet = Self.acknowledgement(of: message) else { continue }
            if owner !== connection {
                connection?.send(contentsOf: packets)
                packets.removeAll(keepingCapacity: true)
                connection = owner
            }
            packets.append(packet)
        }
        connection?.send(contentsOf: packets)
    }

    private static func acknowledgement(of message: MQTTMessage) -> MQTTPacket? {
        guard let id = message.packetID else { return nil }
        switch message.qos {
        case .atMostOnce: return nil
        case .atLeastOnce: return .puback(packetID: id)
        case .exactlyOnce: return .pubrec(packetID: id)
        }
    }

    // MARK: Subscriptions

    /// Subscribes and waits for SUBACK (sent once connected); returns the granted QoS per filter.
    /// Throws `MQTTClientError.subscriptionRefused` if the broker refuses a filter. Granted
    /// subscriptions are remembered and restored when the broker reports no session after a reconnect.
    @discardableResult
    nonisolated(nonsending) public func subscribe(_ filters: [(String, MQTTQoS)]) async throws -> [MQTTQoS] {
        guard !filters.isEmpty else { return [] }
        for (filter, _) in filters { try Self.validate(filter: filter) }
        let subscriptions = filters.map { MQTTSubscription(filter: $0.0, qos: $0.1) }
        let requestID = session.nextRequestID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                session.subscribe(
                    subscriptions, requestID: requestID,
                    waiter: .subscribe(continuation, filters: subscriptions.map(\.filter)))
            }
        } onCancel: {
            session.cancel(requestID: requestID)
        }
    }

    /// Unsubscribes and waits for UNSUBACK (sent once connected); the filters are forgotten at once.
    nonisolated(nonsending) public func unsubscribe(_ filters: [String]) async throws {
        guard !filters.isEmpty else { return }
        for filter in filters { try Self.validate(filter: filter) }
        let requestID = session.nextRequestID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                session.unsubscribe(filters, requestID: requestID, waiter: .unsubscribe(continuation))
            }
        } onCancel: {
            session.cancel(requestID: requestID)
        }
    }

    /// Invalid filters are refused here: Mosquitto answers them by closing the connection, and
    /// the request would be resent after every reconnect.
    private static func validate(filter: String) throws(MQTTClientError) {
        do {
            try MQTTPacket.validateTopicFilter(filter)
        } catch {
            throw .invalidTopic(filter)
        }
    }

    // MARK: Publishing

    /// QoS 0: returns once written to the connection. QoS 1: returns after PUBACK; QoS 2: after
    /// PUBCOMP. The call waits up to `timeout` (nil: forever) in all: not yet sent then (while
    /// disconnected, or while `maxInflightOutgoing` publishes await their acks), it throws
    /// `MQTTClientError.timeout` and is never sent; sent but not acknowledged, it throws
    /// `.unacknowledged`. Packets larger than `maxPacketSize` are refused (`.packetTooLarge`).
    /// Once sent, a QoS 1/2 publish stays in the session until acknowledged, resent with DUP after
    /// reconnects. Throws `MQTTClientError.shutdown` if the client stops first.
    nonisolated(nonsending) public func publish(
        topic: String, payload: ByteBuffer, qos: MQTTQoS, retain: Bool = false, timeout: Duration? = nil
    ) async throws {
        let publish = try Self.publish(
            MQTTOutgoingMessage(topic: topic, payload: payload, retain: retain), qos: qos,
            maxPacketSize: configuration.maxPacketSize)
        if qos == .atMostOnce, let connection = session.connectionForImmediatePublish() {
            connection.send(.publish(publish))
            return
        }
        let requestID = session.nextRequestID()
        let session = session
        let eventLoop = eventLoopGroup.any()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                _ = session.publish(publish, requestID: requestID, waiter: .publish(continuation))
                if let timeout {
                    eventLoop.scheduleTask(in: TimeAmount(timeout)) { session.expire(requestID: requestID) }
                }
            }
        } onCancel: {
            session.cancel(requestID: requestID)
        }
    }

    /// Publishes `messages` in order as one request: validated first (nothing is sent if one is
    /// refused), then queued together and sent as far as `maxInflightOutgoing` allows, with one
    /// write per event-loop tick. Returns once every one completed (acknowledged by the broker for
    /// QoS 1/2, written for QoS 0) and throws the first failure, if any; what was sent stays in
    /// the session as with `publish`. One resumption per call instead of one per message: the
    /// edge agent's drain path.
    nonisolated(nonsending) public func publish(contentsOf messages: [MQTTOutgoingMessage], qos: MQTTQoS)
        async throws
    {
        let publishes = try messages.map { try Self.publish($0, qos: qos, maxPacketSize: configuration.maxPacketSize) }
        if let failure = await send(publishes, timeout: nil).lazy.compactMap({ $0 }).first { throw failure }
    }

    /// Publishes `messages` in order, each on its own (a refused one does not stop the others),
    /// and returns each one's outcome (nil: acknowledged) once all completed. A message still
    /// waiting for a connection or a free slot after `timeout` fails with `.timeout`; one sent but
    /// not acknowledged by then fails with `.unacknowledged` (it may still be delivered). For many
    /// independent publishes that must keep their order, such as a run's dead letters.
    nonisolated(nonsending) public func publishEach(
        contentsOf messages: [MQTTOutgoingMessage], qos: MQTTQoS, timeout: Duration
    ) async -> [(any Error)?] {
        var outcomes: [(any Error)?] = Array(repeating: nil, count: messages.count)
        var publishes: [MQTTPublish] = []
        var positions: [Int] = []
        for (position, message) in messages.enumerated() {
            do {
                publishes.append(try Self.publish(message, qos: qos, maxPacketSize: configuration.maxPacketSize))
                positions.append(position)
            } catch {
                outcomes[position] = error
            }
        }
        for (position, outcome) in zip(positions, await send(publishes, timeout: timeout)) {
            outcomes[position] = outcome
        }
        return outcomes
    }

    /// A checked PUBLISH for `message`: a topic the broker accepts (it closes the connection
    /// otherwise) and a packet within `maxPacketSize` (one the broker cannot take would close the
    /// connection and be resent after every reconnect).
    private static func publish(_ message: MQTTOutgoingMessage, qos: MQTTQoS, maxPacketSize: Int)
        throws(MQTTClientError) -> MQTTPublish
    {
        do {
            try MQTTPacket.validateTopicName(message.topic)
        } catch {
            throw .invalidTopic(message.topic)
        }
        let size = 5 + 2 + message.topic.utf8.count + (qos == .atMostOnce ? 0 : 2) + message.payload.readableBytes
        guard size <= maxPacketSize else { throw .packetTooLarge(size: size, limit: maxPacketSize) }
        return MQTTPublish(topic: message.topic, payload: message.payload, qos: qos, retain: message.retain)
    }

    /// Registers `publishes` in order as one batch and waits until each completed.
    nonisolated(nonsending) private func send(_ publishes: [MQTTPublish], timeout: Duration?) async -> [(any Error)?] {
        guard !publishes.isEmpty else { return [] }
        let requestIDs = session.nextRequestIDs(publishes.count)
        let items = Array(zip(publishes, requestIDs)).map { (publish: $0.0, requestID: $0.1) }
        let batch = PublishBatch(count: items.count)
        let session = session
        let eventLoop = eventLoopGroup.any()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[(any Error)?], Never>) in
                batch.wait(continuation)
                _ = session.publish(contentsOf: items, batch: batch)
                if let timeout {
                    eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                        for requestID in requestIDs { session.expire(requestID: requestID) }
                    }
                }
            }
        } onCancel: {
            for requestID in requestIDs { session.cancel(requestID: requestID) }
        }
    }

    // MARK: Testing support

    /// Drops the TCP connection without DISCONNECT (as a network failure would).
    func dropConnection() async {
        guard let connection = session.currentConnection else { return }
        try? await connection.channel.close()
    }
}
