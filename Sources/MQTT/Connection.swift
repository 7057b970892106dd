import Synchronization

/// One TCP connection to the broker as seen from outside its event loop: the packets other
/// threads want written (publishes, acknowledgements) are collected here and written in one batch
/// with a single flush per event-loop tick, in the order they were sent.
final class Connection: Sendable {
    private struct Outbox {
        var packets: [MQTTPacket] = []
        var scheduled = false
        var closed = false
    }

    /// Increases with every connection of a client; messages remember theirs.
    let generation: UInt64
    let channel: any Channel
    /// Succeeds with the reason once the connection is closed.
    let closed: EventLoopFuture<MQTTClientError>
    private let outbox = Mutex(Outbox())

    init(generation: UInt64, channel: any Channel, closed: EventLoopFuture<MQTTClientError>) {
        self.generation = generation
        self.channel = channel
        self.closed = closed
    }

    /// Queues `packet` for writing; dropped if the connection is closed.
    func send(_ packet: MQTTPacket) {
        let schedule = outbox.withLock { outbox -> Bool in
            guard !outbox.closed else { return false }
            outbox.packets.append(packet)
            guard !outbox.scheduled else { return false }
            outbox.scheduled = true
            return true
        }
        if schedule { scheduleFlush() }
    }

    /// Queues `packets` in order; dropped if the connection is closed.
    func send(contentsOf packets: [MQTTPacket]) {
        guard !packets.isEmpty else { return }
        let schedule = outbox.withLock { outbox -> Bool in
            guard !outbox.closed else { return false }
            outbox.packets.append(contentsOf: packets)
            guard !outbox.scheduled else { return false }
            outbox.scheduled = true
            return true
        }
        if schedule { scheduleFlush() }
    }

    /// Stops accepting packets and forgets the queued ones (the session resends what matters).
    func markClosed() {
        outbox.withLock { outbox in
            outbox.closed = true
            outbox.packets = []
        }
    }

    /// Asks the connection handler to send DISCONNECT and close.
    func disconnect() -> EventLoopFuture<Void> {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.triggerUserOutboundEvent(MQTTDisconnectRequest(), promise: promise)
        return promise.futureResult
    }

    private func scheduleFlush() {
        channel.eventLoop.execute { self.flushOutbox() }
    }

    private func flushOutbox() {
        let packets = outbox.withLock { outbox -> [MQTTPacket] in
            outbox.scheduled = false
            defer { outbox.packets = [] }
            return outbox.packets
        }
        guard !packets.isEmpty else { return }
        channel.writeAndFlush(packets, promise: nil)
    }
}

/// The outbound user event that makes `MQTTConnectionHandler` disconnect cleanly.
struct MQTTDisconnectRequest: Sendable {}
