import NIOCore
import Synchronization

/// How many HTTP connections are open, and whether one more may be: at most `maximum` are
/// served, and at most `perAddress` from one client address; beyond that a connection is
/// refused with a 503 answer, and when many refusals are still lingering (a flood), closed at
/// once without one.
final class ConnectionLimit: Sendable {
    /// What happens to a new connection.
    enum Admission: Equatable {
        case admitted
        /// Answered 503 and closed; call `refusalEnded()` when it is closed. `fromAddress`: the
        /// client's own address has its maximum.
        case refused(fromAddress: Bool)
        /// Closed without an answer.
        case dropped
    }

    /// Refusals allowed to linger at once (each holds a descriptor for at most `answerLinger`).
    static let maximumLingeringRefusals = 256

    let maximum: Int
    let perAddress: Int
    private let open = Atomic<Int>(0)
    private let refusing = Atomic<Int>(0)
    /// Open connections by client address (only addresses with one or more).
    private let byAddress = Mutex<[String: Int]>([:])

    init(maximum: Int, perAddress: Int) {
        self.maximum = maximum
        self.perAddress = perAddress
    }

    /// Connections being served now.
    var openConnections: Int { open.load(ordering: .relaxed) }

    /// Takes a place for a new connection from `address` if there is one; `closed(address:)`
    /// gives it back.
    func admit(address: String) -> Admission {
        let ownPlace = byAddress.withLock { counts in
            let count = counts[address, default: 0]
            guard count < perAddress else { return false }
            counts[address] = count + 1
            return true
        }
        if ownPlace {
            if open.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= maximum { return .admitted }
            open.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            release(address)
        }
        if refusing.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= Self.maximumLingeringRefusals {
            return .refused(fromAddress: !ownPlace)
        }
        refusing.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        return .dropped
    }

    /// An admitted connection from `address` closed.
    func closed(address: String) {
        open.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        release(address)
    }

    private func release(_ address: String) {
        byAddress.withLock { counts in
            let count = counts[address, default: 1] - 1
            counts[address] = count > 0 ? count : nil
        }
    }

    /// A refused connection closed.
    func refusalEnded() {
        refusing.wrappingSubtract(1, ordering: .acquiringAndReleasing)
    }
}

/// The only handler of a connection beyond the limit: sends its answer (503) as soon as the
/// connection is active, closes the output, discards whatever the client sends and closes when
/// the client does or after `linger`. With no answer it closes at once.
final class ConnectionRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let answer: ConnectionAnswer?
    private let linger: TimeAmount
    private var answered = false

    init(answer: ConnectionAnswer?, linger: Duration) {
        self.answer = answer
        self.linger = TimeAmount(linger)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func refuse(context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        guard let answer else {
            context.close(promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(answer.encoded()), promise: nil)
        context.close(mode: .output, promise: nil)
        context.eventLoop.assumeIsolated().scheduleTask(in: linger) { context.close(promise: nil) }
    }
}
