import NIOCore
import NIOHTTP1

/// What one HTTP connection is doing, as far as its timeouts, graceful shutdown and error answers
/// are concerned. `HTTPConnectionGuard` and `HTTPMessageObserver` feed it what happens on the
/// connection and carry out what it decides; it is a plain value so every rule is tested
/// without a socket.
///
/// - Idle: no request started and no response owed; closed after `idleTimeout`.
/// - Reading: from a request's first byte until its end was parsed; after `requestTimeout` it is
///   answered 408 (or closed when an earlier response is still owed, which must come first).
/// - Processing (request read, response not finished) has no timeout: routes bound their own work.
/// - Upgraded (/ws) has no HTTP timeouts at all, only the shutdown bound.
/// - Shutdown: idle connections close at once, busy ones after their response, every one at the
///   latest `shutdownTimeout` after shutdown began.
struct HTTPConnectionState {
    enum Phase: Equatable {
        case serving
        /// An answer went out and the output is closed; input is discarded until the client
        /// closes or `until`.
        case lingering(until: NIODeadline)
        case upgraded
        case closed
    }

    /// What to do with bytes that arrived.
    enum BytesVerdict: Equatable {
        case forward
        case discard
        /// Do not pass them on; do this instead.
        case stop(Action)
    }

    /// What to do after an event or when the timer fires.
    enum Action: Equatable {
        case none
        /// Close now; nothing is pending.
        case close
        /// Flush what is written, close the output, discard input until the client closes (linger).
        case finish
        /// Write this answer, then `finish`.
        case answer(ConnectionAnswer)
    }

    private enum RequestLine: Equatable {
        case reading(bytes: Int)
        case complete
    }

    let limits: HTTPLimits
    private(set) var phase = Phase.serving
    private var idleSince: NIODeadline
    private var requestStartedAt: NIODeadline?
    private var requestLine = RequestLine.complete
    private var currentHeadSeen = false
    private var unanswered = 0
    private var responseOpen = false
    private var shutdownDeadline: NIODeadline?

    init(limits: HTTPLimits, now: NIODeadline) {
        self.limits = limits
        self.idleSince = now
    }

    /// When the timer must fire next, if at all.
    var nextDeadline: NIODeadline? {
        switch phase {
        case .closed: return nil
        case .lingering(let until): return until
        case .upgraded: return shutdownDeadline
        case .serving:
            let reading = requestStartedAt.map { $0 + TimeAmount(limits.requestTimeout) }
            let idle = isIdle ? idleSince + TimeAmount(limits.idleTimeout) : nil
            return [reading, idle, shutdownDeadline].compactMap { $0 }.min()
        }
    }

    private var isIdle: Bool { requestStartedAt == nil && unanswered == 0 && !responseOpen }

    /// Bytes arrived from the client (before the HTTP parser sees them). A request starts with its
    /// first byte; its request line is measured here because the parser counts it together with
    /// the headers and so cannot tell a long URL (414) from large headers (431).
    mutating func bytesReceived(_ bytes: ByteBufferView, now: NIODeadline) -> BytesVerdict {
        switch phase {
        case .serving: break
        case .upgraded: return .forward
        case .lingering, .closed: return .discard
        }
        if requestStartedAt == nil {
            requestStartedAt = now
            requestLine = .reading(bytes: 0)
        }
        guard case .reading(var count) = requestLine else { return .forward }
        for byte in bytes {
            // Empty lines before a request line are allowed (RFC 9112 2.2).
            if count == 0, byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") { continue }
            if byte == UInt8(ascii: "\n") {
                requestLine = .complete
                return .forward
            }
            count += 1
            if count > limits.maxRequestLineBytes {
                return .stop(answerOrClose(.requestLineTooLong(limit: limits.maxRequestLineBytes), now: now))
            }
        }
        requestLine = .reading(bytes: count)
        return .forward
    }

    /// The parser produced a request head. A request that began in the same read as the end of
    /// the previous one was not seen starting by `bytesReceived`: its clock starts here, so a
    /// pipelined request that stops halfway is still answered 408 in time.
    mutating func requestHeadReceived(now: NIODeadline) {
        if requestStartedAt == nil { requestStartedAt = now }
        currentHeadSeen = true
        unanswered += 1
        requestLine = .complete
    }

    /// The parser produced the end of a request (its body is complete).
    mutating func requestEndReceived() {
        requestStartedAt = nil
        currentHeadSeen = false
    }

    /// A final (not 1xx) response head went out.
    mutating func responseHeadSent() {
        responseOpen = true
    }

    /// A response ended.
    mutating func responseEndSent(now: NIODeadline) -> Action {
        responseOpen = false
        unanswered = max(0, unanswered - 1)
        guard phase == .serving, isIdle else { return .none }
        idleSince = now
        guard shutdownDeadline != nil else { return .none }
        phase = .lingering(until: now + TimeAmount(limits.answerLinger))
        return .finish
    }

    /// The parser refused what arrived.
    mutating func malformed(_ error: HTTPParserError, now: NIODeadline) -> Action {
        guard phase == .serving else { return .none }
        return answerOrClose(.malformed(error, limits: limits), now: now)
    }

    /// The request was upgraded to a WebSocket.
    mutating func upgraded() {
        if phase == .serving { phase = .upgraded }
    }

    /// Graceful shutdown began.
    mutating func shutdownRequested(now: NIODeadline) -> Action {
        guard shutdownDeadline == nil else { return .none }
        shutdownDeadline = now + TimeAmount(limits.shutdownTimeout)
        guard phase == .serving, isIdle else { return .none }
        phase = .closed
        return .close
    }

    /// The client closed its side.
    mutating func inputClosed() -> Action {
        guard case .lingering = phase else { return .none }
        phase = .closed
        return .close
    }

    /// The channel closed.
    mutating func channelClosed() {
        phase = .closed
    }

    /// The timer fired (at `nextDeadline` or later, or earlier when a deadline moved back).
    mutating func timerFired(now: NIODeadline) -> Action {
        switch phase {
        case .closed:
            return .none
        case .lingering(let until):
            guard now >= until else { return .none }
        case .upgraded:
            guard let deadline = shutdownDeadline, now >= deadline else { return .none }
        case .serving:
            if let deadline = shutdownDeadline, now >= deadline { break }
            if let start = requestStartedAt, now >= start + TimeAmount(limits.requestTimeout) {
                return answerOrClose(.requestTimeout(limits.requestTimeout), now: now)
            }
            guard isIdle, now >= idleSince + TimeAmount(limits.idleTimeout) else { return .none }
        }
        phase = .closed
        return .close
    }

    /// Answers when the answer would be the next response on the connection (no earlier request
    /// still waits for its response); otherwise closes, since an answer now would be taken for
    /// the earlier request's response.
    private mutating func answerOrClose(_ answer: ConnectionAnswer, now: NIODeadline) -> Action {
        guard !responseOpen, unanswered == (currentHeadSeen ? 1 : 0) else {
            phase = .closed
            return .close
        }
        phase = .lingering(until: now + TimeAmount(limits.answerLinger))
        return .answer(answer)
    }
}
