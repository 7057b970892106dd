/// The per-connection protocol driver on the channel's event loop: sends CONNECT and waits for
/// CONNACK, hands received PUBLISHes to the inbound buffer in read bursts, answers PUBREL with
/// PUBCOMP, feeds acknowledgements to the session, keeps the connection alive with PINGREQ and
/// declares it dead when the broker goes silent (the timing is `KeepAlive`'s), and holds socket
/// reads while the inbound buffer is full. Everything else (what to resend, who to resume) is
/// decided by `Session`.
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
    private let keepAliveInterval: TimeAmount?
    private let pingTimeout: TimeAmount
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
    /// Present while connected with keep-alive enabled.
    private var keepAlive: KeepAlive?
    private var timer: Scheduled<Void>?
    private var readHeld = false
    /// Reading gathered traffic: how long a read waits after a light burst, the publishes of the
    /// last burst, and the read scheduled meanwhile.
    private let readGathering: TimeAmount
    private var lastBurst = 0
    private var gatheringRead: Scheduled<Void>?
    /// A burst with at least this many publishes is busy traffic: the next read is not delayed.
    static let busyBurst = 512
    private var needsFlush = false
    private var pending: [MQTTPacket] = []
    /// PUBACKs of the current read burst, handed to the session together at its end.
    private var pubAcks: [UInt16] = []
    private var resumeReading: (@Sendable () -> Void)?

    init(
        session: Session, connect: MQTTConnect, connectTimeout: TimeAmount, keepAlive: TimeAmount?,
        pingTimeout: TimeAmount, readGathering: TimeAmount = .zero, generation: UInt64,
        established: EventLoopPromise<(Connection, sessionPresent: Bool)>, closed: EventLoopPromise<MQTTClientError>
    ) {
        self.readGathering = readGathering
        self.session = session
        self.connectPacket = connect
        self.connectTimeout = connectTimeout
        self.keepAliveInterval = keepAlive
        self.pingTimeout = pingTimeout
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
        gatheringRead?.cancel()
        gatheringRead = nil
        pending = []  // the session resends what matters on the next connection
        if !pubAcks.isEmpty {
            // Acknowledged before the connection ended: done, not to be resent.
            _ = session.acknowledged(pubAcks: pubAcks)
            pubAcks = []
        }
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

    /// Closes the connection, remembering the first reason given. The session forgets the
    /// connection at once (`isConnected` turns false before the socket is even closed).
    private func close(_ reason: MQTTClientError) {
        if closeReason == nil { closeReason = reason }
        guard phase != .closed, let context else { return }
        finish(context: context)
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
        timer = nil
        let packets = session.connectionEstablished(connection, sessionPresent: sessionPresent)
        for packet in packets { write(packet, context: context) }
        if let keepAliveInterval {
            keepAlive = KeepAlive(interval: keepAliveInterval, pingTimeout: pingTimeout, now: .now())
            scheduleKeepAliveCheck(context: context)
        }
        established.succeed((connection, sessionPresent))
    }

    private func handle(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        switch packet {
        case .publish(let publish):
            batch.append(
                MQTTMessage(
                    topic: publish.topic, payload: publish.payload, qos: publish.qos, retain: publish.retain,
                    duplicate: publish.duplicate, packetID: publish.packetID, refusal: publish.refusal,
                    connection: connection))
        case .pubrel(let id):
            write(.pubcomp(packetID: id), context: context)
        case .puback(let id):
            pubAcks.append(id)
        case .pubrec, .pubcomp, .suback, .unsuback:
            for reply in session.acknowledged(packet) { write(reply, context: context) }
        case .pingresp:
            break  // any packet answers a PINGREQ (see channelReadComplete)
        case .connect, .connack, .subscribe, .unsubscribe, .pingreq, .disconnect:
            close(.protocolError(.unexpectedPacket(packet.type)))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        keepAlive?.received(at: .now())
        lastBurst = batch.count
        acknowledgePubAcks(context: context)
        if !batch.isEmpty {
            session.inbound.append(contentsOf: batch)
            batch.removeAll(keepingCapacity: true)
        }
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    private func acknowledgePubAcks(context: ChannelHandlerContext) {
        guard !pubAcks.isEmpty else { return }
        for reply in session.acknowledged(pubAcks: pubAcks) { write(reply, context: context) }
        pubAcks.removeAll(keepingCapacity: true)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(MQTTClient.classify(error))
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // This handler's queued packets were produced first: they go out first.
        writePending(context: context)
        context.write(data, promise: promise)
        // Someone waits for the broker's answer to what went out (a PUBACK): a read held back to
        // gather traffic happens now instead.
        if let gathering = gatheringRead, session.inflightCount > 0 {
            gathering.cancel()
            gatheringRead = nil
            context.read()
        } else if readHeld, session.inflightCount > 0 {
            // A read held back because ingest has not caught up: the answer may be what ingest
            // waits for (a run's dead letters), so read on (`InboundBuffer.shouldRead`).
            readHeld = false
            read(context: context)
        }
    }

    private func writePending(context: ChannelHandlerContext) {
        guard !pending.isEmpty else { return }
        context.write(wrapOutboundOut(pending), promise: nil)
        pending = []
    }

    func flush(context: ChannelHandlerContext) {
        keepAlive?.sent(at: .now())
        needsFlush = false
        writePending(context: context)
        context.flush()
    }

    func read(context: ChannelHandlerContext) {
        guard let resumeReading,
            !session.inbound.shouldRead(awaitingAnswers: session.inflightCount > 0, orWhenReady: resumeReading)
        else {
            return readSoon(context: context)
        }
        readHeld = true
    }

    /// Reads at once, or, after a light burst with gathering on, once `readGathering` has passed:
    /// the broker's publishes wait in the socket meanwhile and arrive as one burst, so light,
    /// evenly spread traffic costs one wake-up per interval instead of one per message. Never
    /// while our own publishes await their PUBACK: their senders wait for it.
    private func readSoon(context: ChannelHandlerContext) {
        guard readGathering > .zero, phase == .connected, lastBurst < Self.busyBurst, session.inflightCount == 0
        else { return context.read() }
        guard gatheringRead == nil else { return }
        gatheringRead = context.eventLoop.assumeIsolated().scheduleTask(in: readGathering) {
            self.gatheringRead = nil
            guard self.phase == .connected, let context = self.context else { return }
            context.read()
        }
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
        keepAlive?.received(at: .now())
        read(context: context)
    }

    /// Queues `packet`; what a read burst produces (one publish per PUBACK that freed a slot,
    /// PUBCOMPs) goes down the pipeline as one array at the next flush.
    private func write(_ packet: MQTTPacket, context: ChannelHandlerContext) {
        pending.append(packet)
        needsFlush = true
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        guard needsFlush else { return }
        needsFlush = false
        keepAlive?.sent(at: .now())
        writePending(context: context)
        context.flush()
    }

    // MARK: Keep-alive

    /// Wakes up when `KeepAlive` may next have something to do (at least 10 ms from now).
    private func scheduleKeepAliveCheck(context: ChannelHandlerContext) {
        guard let keepAlive else { return }
        let delay = max(keepAlive.nextCheck - .now(), .milliseconds(10))
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.keepAliveCheck()
        }
    }

    private func keepAliveCheck() {
        guard phase == .connected, keepAlive != nil, let context else { return }
        let now = NIODeadline.now()
        // The broker's packets wait in the socket because we stopped reading; not its fault.
        if readHeld { keepAlive?.received(at: now) }
        switch keepAlive?.check(at: now) {
        case .timeOut:
            return close(.keepAliveTimeout)
        case .ping:
            write(.pingreq, context: context)
            flushIfNeeded(context: context)
        case .wait, nil:
            break
        }
        scheduleKeepAliveCheck(context: context)
    }
}
