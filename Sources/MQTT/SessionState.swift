/// What a finished request reports to its caller.
enum SessionCompletion: Sendable, Equatable {
    case published
    case subscribed([MQTTSubscribeReturnCode])
    case unsubscribed
}

/// What the session state asks its owner to do after an event: packets to write on the current
/// connection (in order), callers to resume, and things worth a log line.
struct SessionEffects<Waiter> {
    var packets: [MQTTPacket] = []
    var completions: [(waiter: Waiter, result: Result<SessionCompletion, any Error>)] = []
    var warnings: [String] = []
}

/// The client side of an MQTT session as a plain value: outgoing QoS 1/2 publishes until their
/// acknowledgement (kept across connections and resent on reconnect), publishes waiting for a
/// connection or a free in-flight slot, SUBSCRIBE/UNSUBSCRIBE awaiting their acks, the remembered
/// subscriptions, and packet identifiers. No I/O: every event returns the packets to send and the
/// callers to resume, so it is tested without sockets. `Waiter` is whatever resumes a caller.
struct SessionState<Waiter> {
    struct Outgoing {
        var publish: MQTTPublish
        /// PUBREC received: PUBREL is (re)sent instead of the PUBLISH.
        var released = false
        var waiter: Waiter?
        var requestID: UInt64
        var order: UInt64
    }

    struct QueuedPublish {
        var publish: MQTTPublish
        var waiter: Waiter
        var requestID: UInt64
    }

    struct Request {
        var packet: MQTTPacket
        var waiter: Waiter?
        var requestID: UInt64
        var order: UInt64
    }

    let maxInflight: Int
    private(set) var isConnected = false
    private(set) var isStopped = false
    private(set) var outgoing: [UInt16: Outgoing] = [:]
    private(set) var queue = CircularBuffer<QueuedPublish>()
    private(set) var requests: [UInt16: Request] = [:]
    /// Granted subscriptions, re-sent when the broker has no session for us.
    private(set) var subscriptions: [MQTTSubscription] = []
    private var lastPacketID: UInt16 = 0
    private var order: UInt64 = 0

    init(maxInflight: Int) {
        self.maxInflight = min(max(maxInflight, 1), 60_000)
    }

    // MARK: Application requests

    /// A publish from the application: sent now if connected and a slot is free, queued otherwise.
    mutating func publish(_ publish: MQTTPublish, requestID: UInt64, waiter: Waiter) -> SessionEffects<Waiter> {
        self.publish(contentsOf: [(publish, requestID, waiter)])
    }

    /// Publishes from one application call, in order: all queued at once, sent as far as the
    /// in-flight window allows; each completes its waiter when acknowledged.
    mutating func publish(contentsOf publishes: [(publish: MQTTPublish, requestID: UInt64, waiter: Waiter)])
        -> SessionEffects<Waiter>
    {
        var effects = SessionEffects<Waiter>()
        guard !isStopped else {
            for item in publishes { effects.completions.append((item.waiter, .failure(MQTTClientError.shutdown))) }
            return effects
        }
        let wasIdle = queue.isEmpty
        queue.reserveCapacity(queue.count + publishes.count)
        for (publish, requestID, waiter) in publishes {
            var publish = publish
            publish.packetID = nil
            publish.duplicate = false
            queue.append(QueuedPublish(publish: publish, waiter: waiter, requestID: requestID))
        }
        if wasIdle { sendQueued(into: &effects) }
        return effects
    }

    mutating func subscribe(_ filters: [MQTTSubscription], requestID: UInt64, waiter: Waiter)
        -> SessionEffects<Waiter>
    {
        request(requestID: requestID, waiter: waiter) { .subscribe(MQTTSubscribe(packetID: $0, filters: filters)) }
    }

    mutating func unsubscribe(_ filters: [String], requestID: UInt64, waiter: Waiter) -> SessionEffects<Waiter> {
        subscriptions.removeAll { filters.contains($0.filter) }
        return request(requestID: requestID, waiter: waiter) {
            .unsubscribe(MQTTUnsubscribe(packetID: $0, filters: filters))
        }
    }

    private mutating func request(requestID: UInt64, waiter: Waiter, packet: (UInt16) -> MQTTPacket)
        -> SessionEffects<Waiter>
    {
        var effects = SessionEffects<Waiter>()
        guard !isStopped else {
            effects.completions.append((waiter, .failure(MQTTClientError.shutdown)))
            return effects
        }
        guard let id = allocatePacketID() else {
            effects.completions.append((waiter, .failure(MQTTClientError.tooManyRequests)))
            return effects
        }
        let packet = packet(id)
        order += 1
        requests[id] = Request(packet: packet, waiter: waiter, requestID: requestID, order: order)
        if isConnected { effects.packets.append(packet) }
        return effects
    }

    /// The caller of `requestID` gave up (task cancelled). A publish not yet sent is dropped; one in
    /// flight stays in the session (it is delivered anyway) but no longer resumes anybody.
    mutating func cancel(requestID: UInt64) -> SessionEffects<Waiter> {
        fail(requestID: requestID, with: CancellationError())
    }

    /// The publish `requestID` waited too long: for a connection (`.timeout`, and it is never
    /// sent), or for its acknowledgement (`.unacknowledged`: it stays in the session and no longer
    /// resumes anybody). Without the second, a caller whose acknowledgement could only arrive
    /// through a read held back until that caller goes on would wait forever.
    mutating func expire(requestID: UInt64) -> SessionEffects<Waiter> {
        fail(requestID: requestID, with: MQTTClientError.timeout, sentWith: MQTTClientError.unacknowledged)
    }

    private mutating func fail(requestID: UInt64, with error: any Error, sentWith sentError: (any Error)? = nil)
        -> SessionEffects<Waiter>
    {
        var effects = SessionEffects<Waiter>()
        if let index = queue.firstIndex(where: { $0.requestID == requestID }) {
            let wasHead = index == queue.startIndex
            let queued = queue.remove(at: index)
            effects.completions.append((queued.waiter, .failure(error)))
            if wasHead { sendQueued(into: &effects) }
            return effects
        }
        let error = sentError ?? error
        if let (id, entry) = outgoing.first(where: { $0.value.requestID == requestID }), let waiter = entry.waiter {
            outgoing[id]?.waiter = nil
            effects.completions.append((waiter, .failure(error)))
        } else if let (id, request) = requests.first(where: { $0.value.requestID == requestID }),
            let waiter = request.waiter
        {
            requests[id]?.waiter = nil
            effects.completions.append((waiter, .failure(error)))
        }
        return effects
    }

    // MARK: Connection events

    /// CONNACK accepted: restore subscriptions when the broker has no session, resend unfinished
    /// requests and publishes (DUP, or PUBREL after PUBREC), then send what was queued.
    mutating func connected(sessionPresent: Bool) -> SessionEffects<Waiter> {
        var effects = SessionEffects<Waiter>()
        guard !isStopped else { return effects }
        isConnected = true
        if !sessionPresent && !subscriptions.isEmpty {
            var start = 0
            while start < subscriptions.count {
                let chunk = Array(subscriptions[start..<min(start + 100, subscriptions.count)])
                start += chunk.count
                guard let id = allocatePacketID() else { break }
                let packet = MQTTPacket.subscribe(MQTTSubscribe(packetID: id, filters: chunk))
                order += 1
                requests[id] = Request(packet: packet, waiter: nil, requestID: 0, order: order)
            }
        }
        for (_, request) in requests.sorted(by: { $0.value.order < $1.value.order }) {
            effects.packets.append(request.packet)
        }
        for (id, entry) in outgoing.sorted(by: { $0.value.order < $1.value.order }) {
            if entry.released {
                effects.packets.append(.pubrel(packetID: id))
            } else {
                var publish = entry.publish
                publish.duplicate = true
                outgoing[id]?.publish.duplicate = true
                effects.packets.append(.publish(publish))
            }
        }
        sendQueued(into: &effects)
        return effects
    }

    mutating func disconnected() {
        isConnected = false
    }

    /// The client stops for good: every waiting caller gets `MQTTClientError.shutdown`.
    mutating func stop() -> SessionEffects<Waiter> {
        var effects = SessionEffects<Waiter>()
        isStopped = true
        isConnected = false
        let error = MQTTClientError.shutdown
        while let queued = queue.popFirst() { effects.completions.append((queued.waiter, .failure(error))) }
        for entry in outgoing.values.sorted(by: { $0.order < $1.order }) {
            if let waiter = entry.waiter { effects.completions.append((waiter, .failure(error))) }
        }
        for request in requests.values.sorted(by: { $0.order < $1.order }) {
            if let waiter = request.waiter { effects.completions.append((waiter, .failure(error))) }
        }
        outgoing.removeAll()
        requests.removeAll()
        return effects
    }

    // MARK: Acknowledgements from the broker

    mutating func pubAck(packetID: UInt16) -> SessionEffects<Waiter> {
        finish(packetID: packetID, qos: .atLeastOnce, packet: "PUBACK")
    }

    /// The PUBACKs of one read burst, in order: one set of effects for all of them, and the
    /// freed slots refilled once.
    mutating func pubAcks(_ packetIDs: [UInt16]) -> SessionEffects<Waiter> {
        var effects = SessionEffects<Waiter>()
        effects.completions.reserveCapacity(packetIDs.count)
        for packetID in packetIDs {
            // One lookup, and the entry moved out rather than copied (a copy retained its topic,
            // payload and waiter: the sensor's busiest path).
            guard let index = outgoing.index(forKey: packetID), outgoing.values[index].publish.qos == .atLeastOnce
            else {
                effects.warnings.append("PUBACK for unknown packet identifier \(packetID)")
                continue
            }
            if let waiter = outgoing.remove(at: index).value.waiter {
                effects.completions.append((waiter, .success(.published)))
            }
        }
        sendQueued(into: &effects)
        return effects
    }

    /// PUBREC: the broker has the QoS 2 message; PUBREL must follow (sent even for unknown ids).
    mutating func pubRec(packetID: UInt16) -> SessionEffects<Waiter> {
        var effects = SessionEffects<Waiter>()
        if let entry = outgoing[packetID], entry.publish.qos == .exactlyOnce {
            outgoing[packetID]?.released = true
        } else {
            effects.warnings.append("PUBREC for unknown packet identifier \(packetID)")
        }
        effects.packets.append(.pubrel(packetID: packetID))
        return effects
    }

    mutating func pubComp(packetID: UInt16) -> SessionEffects<Waiter> {
        finish(packetID: packetID, qos: .exactlyOnce, packet: "PUBCOMP")
    }

    /// The broker's final acknowledgement (PUBACK for QoS 1, PUBCOMP for QoS 2) of an outgoing publish.
    private mutating func finish(packetID: UInt16, qos: MQTTQoS, packet: String) -> SessionEffects<Waiter> {
        var effects = SessionEffects<Waiter>()
        guard let entry = outgoing[packetID], entry.publish.qos == qos else {
            effects.warnings.append("\(packet) for unknown packet identifier \(packetID)")
            return effects
        }
        complete(packetID: packetID, into: &effects)
        return effects
    }

    mutating func subAck(_ suback: MQTTSubAck) -> SessionEffects<Waiter> {
        var effects = SessionEffects<Waiter>()
        guard let request = requests[suback.packetID], case .subscribe(let subscribe) = request.packet else {
            effects.warnings.append("SUBACK for unknown packet identifier \(suback.packetID)")
            return effects
        }
        requests[suback.packetID] = nil
        guard suback.returnCodes.count == subscribe.filters.count else {
            effects.warnings.append(
                "SUBACK with \(suback.returnCodes.count) codes for \(subscribe.filters.count) filters")
            if let waiter = request.waiter {
                effects.completions.append((waiter, .failure(MQTTClientError.protocolError(.invalidField("SUBACK")))))
            }
            return effects
        }
        for (subscription, code) in zip(subscribe.filters, suback.returnCodes) {
            subscriptions.removeAll { $0.filter == subscription.filter }
            if code == .failure {
                if request.waiter == nil {
                    effects.warnings.append("broker refused restored subscription '\(subscription.filter)'")
                }
            } else {
                subscriptions.append(subscription)
            }
        }
        if let waiter = request.waiter {
            effects.completions.append((waiter, .success(.subscribed(suback.returnCodes))))
        }
        return effects
    }

    mutating func unsubAck(packetID: UInt16) -> SessionEffects<Waiter> {
        var effects = SessionEffects<Waiter>()
        guard let request = requests[packetID], case .unsubscribe = request.packet else {
            effects.warnings.append("UNSUBACK for unknown packet identifier \(packetID)")
            return effects
        }
        requests[packetID] = nil
        if let waiter = request.waiter { effects.completions.append((waiter, .success(.unsubscribed))) }
        return effects
    }

    // MARK: Internals

    private mutating func complete(packetID: UInt16, into effects: inout SessionEffects<Waiter>) {
        guard let entry = outgoing.removeValue(forKey: packetID) else { return }
        if let waiter = entry.waiter { effects.completions.append((waiter, .success(.published))) }
        sendQueued(into: &effects)
    }

    /// Sends queued publishes, in order, while connected and slots are free.
    private mutating func sendQueued(into effects: inout SessionEffects<Waiter>) {
        guard isConnected else { return }
        while !queue.isEmpty {
            if queue[queue.startIndex].publish.qos == .atMostOnce {
                let head = queue.removeFirst()
                effects.packets.append(.publish(head.publish))
                effects.completions.append((head.waiter, .success(.published)))
                continue
            }
            guard outgoing.count < maxInflight, let id = allocatePacketID() else { return }
            var head = queue.removeFirst()
            head.publish.packetID = id
            order += 1
            effects.packets.append(.publish(head.publish))
            outgoing[id] = Outgoing(publish: head.publish, waiter: head.waiter, requestID: head.requestID, order: order)
        }
    }

    /// The next identifier after the last one, wrapping 65535 → 1, skipping those in use.
    mutating func allocatePacketID() -> UInt16? {
        guard outgoing.count + requests.count < Int(UInt16.max) else { return nil }
        var candidate = lastPacketID
        while true {
            candidate = candidate == UInt16.max ? 1 : candidate + 1
            // Index lookups: comparing `outgoing[candidate]` with nil copied the entry in use.
            if outgoing.index(forKey: candidate) == nil && requests.index(forKey: candidate) == nil {
                lastPacketID = candidate
                return candidate
            }
        }
    }
}
