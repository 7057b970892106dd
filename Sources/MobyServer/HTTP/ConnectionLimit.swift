import NIOCore
import Synchronization

/// How many HTTP connections are open, and whether one more may be: at most `maximum` are
/// served; beyond that a connection is refused with a 503 answer, and when many refusals are
/// still lingering (a flood), closed at once without one.
final class ConnectionLimit: Sendable {
    /// What happens to a new connection.
    enum Admission: Equatable {
        case admitted
        /// Answered 503 and closed; call `refusalEnded()` when it is closed.
        case refused
        /// Closed without an answer.
        case dropped
    }

    /// Refusals allowed to linger at once (each holds a descriptor for at most `answerLinger`).
    static let maximumLingeringRefusals = 256

    let maximum: Int
    private let open = Atomic<Int>(0)
    private let refusing = Atomic<Int>(0)

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Connections being served now.
    var openConnections: Int { open.load(ordering: .relaxed) }

    /// Takes a place for a new connection if there is one; `closed()` gives it back.
    func admit() -> Admission {
        if open.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= maximum { return .admitted }
        open.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        if refusing.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= Self.maximumLingeringRefusals {
            return .refused
        }
        refusing.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        return .dropped
    }

    /// An admitted connection closed.
    func closed() {
        open.wrappingSubtract(1, ordering: .acquiringAndReleasing)
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
