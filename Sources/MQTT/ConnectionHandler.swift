/// The per-connection protocol driver on the channel's event loop: sends CONNECT and waits for
/// CONNACK, hands received PUBLISHes to the inbound buffer in read bursts, answers PUBREL with
/// PUBCOMP, feeds acknowledgements to the session, keeps the connection alive with PINGREQ and
/// declares it dead when the broker goes silent, and holds socket reads while the inbound buffer
/// is full. Everything else (what to resend, who to resume) is decided by `Session`.
final class MQTTConnectionHandler: ChannelDuplexHandler {
    /// Every complete packet of a read (see `MQTTByteToPacketDecoder`).
    typealias InboundIn = [MQTTPacket]
    /// Runs of packets (see `MQTTPacketEncoder`).
    typealias OutboundIn = [MQTTPacket]
    typealias OutboundOut = [MQTTPacket]

    private enum Phase {
        case awaitingConnAck
        case connected
        case closed
    }

    private let session: Session
    private let connectPacket: MQTTConnect
    private let connectTimeout: TimeAmount
    private let keepAlive: TimeAmount?
    private let generation: UInt64
    /// Succeeds with the connection once CONNACK accepted it.
    let established: EventLoopPromise<(Connection, sessionPresent: Bool)>
    /// Succeeds with the reason once the connection is closed.
    let closed: EventLoopPromise<MQTTClientError>

    private var phase = Phase.awaitingConnAck
    private var connection: Connection?
    private var context: ChannelHandlerContext?
    private var closeReason: MQTTClientError?
    private var batch: [MQTTMessage] = []
    private var lastRead = NIODeadline.now()
    private var lastWrite = NIODeadline.now()
    private var pingSentAt: NIODeadline?
    private var timer: Scheduled<Void>?
    private var readHeld = false
    private var needsFlush = false
    private var resumeReading: (@Sendable () -> Void)?

    init(
        session: Session, connect: MQTTConnect, connectTimeout: TimeAmount, keepAlive: TimeAmount?,
        generation: UInt64, established: EventLoopPromise<(Connection, sessionPresent: Bool)>,
        closed: EventLoopPromise<MQTTClientError>
    ) {
        self.session = session
        self.connectPacket = connect
        self.connectTimeout = connectTimeout
        self.keepAlive = keepAlive
        self.generation = generation
        self.established = established
        self.closed = closed
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        connection = Connection(generation: generation, channel: context.channel, closed: closed.futureResult)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        resumeReading = { eventLoop.execute { handler.value.resumeHeldRead() } }
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(context: context)
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context: context)
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        guard phase == .awaitingConnAck, timer == nil else { return }
        write(.connect(connectPacket), context: context)
        flushIfNeeded(context: context)
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: connectTimeout) {
            if self.phase == .awaitingConnAck { self.close(.connectTimeout) }
        }
    }

    private func finish(context: ChannelHandlerContext) {
        guard phase != .closed else { return }
        let wasConnected = phase == .connected
        phase = .closed
        timer?.cancel()
        timer = nil
        let reason = closeReason ?? .connectionClosed
        session.inbound.cancelResume()
        if !batch.isEmpty {
            session.inbound.append(contentsOf: batch)
            batch = []
        }
        if let connection {
            connection.markClosed()
            if wasConnected { session.connectionLost(connection, reason: reason) }
        }
        established.fail(reason)
        closed.succeed(reason)
    }

    /// Closes the connection, remembering the first reason given.
    private func close(_ reason: MQTTClientError) {
        if closeReason == nil { closeReason = reason }
        guard phase != .closed, let context else { return }
        context.close(promise: nil)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for packet in unwrapInboundIn(data) { received(packet, context: context) }
    }

    private func received(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        switch phase {
        case .awaitingConnAck:
            guard case .connack(let connack) = packet else {
                return close(.protocolError(.unexpectedPacket(packet.type)))
            }
            guard connack.returnCode == .accepted else { return close(.connectionRefused(connack.returnCode)) }
            accepted(sessionPresent: connack.sessionPresent, context: context)
        case .connected:
            handle(packet, context: context)
        case .closed:
            break
        }
    }

    private func accepted(sessionPresent: Bool, context: ChannelHandlerContext) {
        guard let connection else { return }
        phase = .connected
        timer?.cancel()
        lastRead = .now()
        pingSentAt = nil
        let packets = session.connectionEstablished(connection, sessionPresent: sessionPresent)
        for packet in packets { write(packet, context: context) }
        if let keepAlive {
            let interval = max(TimeAmount.nanoseconds(keepAlive.nanoseconds / 4), TimeAmount.milliseconds(10))
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: interval) {
                self.keepAliveTick(interval: interval)
            }
        }
        established.succeed((connection, sessionPresent))
    }

    private func handle(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        switch packet {
        case .publish(let publish):
            batch.append(
                MQTTMessage(
                    topic: publish.topic, payload: publish.payload, qos: publish.qos, retain: publish.retain,
                    duplicate: publish.duplicate, packetID: publish.packetID, connection: connection))
        case .pubrel(let id):
            write(.pubcomp(packetID: id), context: context)
        case .puback, .pubrec, .pubcomp, .suback, .unsuback:
            for reply in session.acknowledged(packet) { write(reply, context: context) }
        case .pingresp:
            pingSentAt = nil
        case .connect, .connack, .subscribe, .unsubscribe, .pingreq, .disconnect:
            close(.protocolError(.unexpectedPacket(packet.type)))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        lastRead = .now()
        if !batch.isEmpty {
            session.inbound.append(contentsOf: batch)
            batch.removeAll(keepingCapacity: true)
        }
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(MQTTClient.classify(error))
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        lastWrite = .now()
        needsFlush = false
        context.flush()
    }

    func read(context: ChannelHandlerContext) {
        guard let resumeReading, !session.inbound.shouldRead(orWhenReady: resumeReading) else {
            return context.read()
        }
        readHeld = true
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is MQTTDisconnectRequest else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        if closeReason == nil { closeReason = .closedByClient }
        switch phase {
        case .connected:
            // The session forgets this connection at once, so nothing more is queued on it.
            finish(context: context)
            context.writeAndFlush(wrapOutboundOut([.disconnect])).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            context.channel.closeFuture.cascade(to: promise)
        case .awaitingConnAck:
            context.close(promise: nil)
            context.channel.closeFuture.cascade(to: promise)
        case .closed:
            context.channel.closeFuture.cascade(to: promise)
        }
    }

    private func resumeHeldRead() {
        guard readHeld, let context else { return }
        readHeld = false
        lastRead = .now()
        read(context: context)
    }

    private func write(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut([packet]), promise: nil)
        needsFlush = true
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        guard needsFlush else { return }
        needsFlush = false
        lastWrite = .now()
        context.flush()
    }

    // MARK: Keep-alive

    private func keepAliveTick(interval: TimeAmount) {
        guard phase == .connected, let keepAlive, let context else { return }
        let now = NIODeadline.now()
        if readHeld {
            // The broker's packets wait in the socket because we stopped reading; not its fault.
            lastRead = now
            pingSentAt = nil
        }
        if now - lastRead >= keepAlive + half(keepAlive) {
            return close(.keepAliveTimeout)
        }
        if let pingSentAt, now - pingSentAt >= keepAlive {
            return close(.keepAliveTimeout)
        }
        if pingSentAt == nil && (now - lastWrite >= half(keepAlive) || now - lastRead >= half(keepAlive)) {
            pingSentAt = now
            write(.pingreq, context: context)
            flushIfNeeded(context: context)
        }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: interval) {
            self.keepAliveTick(interval: interval)
        }
    }

    private func half(_ amount: TimeAmount) -> TimeAmount { .nanoseconds(amount.nanoseconds / 2) }
}
