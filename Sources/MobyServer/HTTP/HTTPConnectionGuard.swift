import NIOCore
import NIOHTTP1

/// The first handler of every admitted HTTP connection (before the HTTP decoder, so it sees raw
/// bytes, also after a WebSocket upgrade): feeds `HTTPConnectionState` with arriving bytes, time
/// and the server's shutdown, and carries out what it decides (close, or answer and linger).
/// `HTTPMessageObserver` reports the parsed messages to it.
///
/// When it closes, or answers and stops reading, it tells the handlers behind it that the input
/// ended (as if the client had closed), so they wind down the way they do for a client that went
/// away: Hummingbird's upgrade handler, still waiting for a first request, otherwise fails its
/// result and Hummingbird logs an error for every such connection. While it lingers after an
/// answer it owns the connection's closing: a close from behind waits for the linger to end.
final class HTTPConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = ByteBuffer

    private let limits: HTTPLimits
    private var state: HTTPConnectionState
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(limits: HTTPLimits) {
        self.limits = limits
        self.state = HTTPConnectionState(limits: limits, now: .now())
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        state = HTTPConnectionState(limits: limits, now: .now())
        rearm()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state.bytesReceived(unwrapInboundIn(data).readableBytesView, now: .now()) {
        case .forward: context.fireChannelRead(data)
        case .discard: break
        case .stop(let action): perform(action)
        }
        rearm()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            perform(state.shutdownRequested(now: .now()))
            rearm()
        } else if let event = event as? ChannelEvent, event == .inputClosed, state.inputClosed() == .close {
            perform(.close)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard case .lingering = state.phase else {
            context.close(mode: mode, promise: promise)
            return
        }
        promise.map { context.channel.closeFuture.cascade(to: $0) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.channelClosed()
        cancelTimer()
        context.fireChannelInactive()
    }

    // MARK: Reported by HTTPMessageObserver

    func requestHeadReceived() {
        state.requestHeadReceived(now: .now())
        rearm()
    }

    func requestEndReceived() {
        state.requestEndReceived()
        rearm()
    }

    func responseHeadSent() { state.responseHeadSent() }

    func responseEndSent() {
        perform(state.responseEndSent(now: .now()))
        rearm()
    }

    func malformed(_ error: HTTPParserError) {
        perform(state.malformed(error, now: .now()))
        rearm()
    }

    func upgraded() {
        state.upgraded()
        cancelTimer()
        rearm()
    }

    // MARK: Carrying out

    private func perform(_ action: HTTPConnectionState.Action) {
        guard let context else { return }
        switch action {
        case .none:
            return
        case .close:
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            context.close(promise: nil)
        case .finish:
            context.flush()
            context.close(mode: .output, promise: nil)
        case .answer(let answer):
            context.writeAndFlush(wrapOutboundOut(answer.encoded()), promise: nil)
            context.close(mode: .output, promise: nil)
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
    }

    /// Makes sure the timer fires no later than the state's next deadline (a timer that fires
    /// early finds nothing due and is armed again).
    private func rearm() {
        guard let context, let next = state.nextDeadline else { return }
        if let scheduled = timerDeadline, scheduled <= next { return }
        timer?.cancel()
        timerDeadline = next
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: next) {
            self.timer = nil
            self.timerDeadline = nil
            self.perform(self.state.timerFired(now: .now()))
            self.rearm()
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }
}

/// Sits after the HTTP upgrade handler and reports a connection's messages to its
/// `HTTPConnectionGuard`: request heads and ends coming in, response heads and ends going out,
/// parser errors (which the guard answers, so they go no further), and the WebSocket upgrade,
/// after which it leaves the pipeline (what follows is WebSocket frames, not HTTP).
final class HTTPMessageObserver: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let connectionGuard: HTTPConnectionGuard

    init(reportingTo connectionGuard: HTTPConnectionGuard) {
        self.connectionGuard = connectionGuard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: connectionGuard.requestHeadReceived()
        case .body: break
        case .end: connectionGuard.requestEndReceived()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.status.code >= 200 { connectionGuard.responseHeadSent() }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            connectionGuard.responseEndSent()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HTTPParserError {
            connectionGuard.malformed(error)
        } else {
            context.fireErrorCaught(error)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if event is HTTPServerUpgradeEvents {
            connectionGuard.upgraded()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}
