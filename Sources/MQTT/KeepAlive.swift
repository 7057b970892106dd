/// The keep-alive of one connection as a plain value: when to send PINGREQ and when to declare
/// the broker gone. A PINGREQ goes out when nothing was sent for `interval` (the broker expects a
/// packet at least that often) or nothing was received for `interval` (a black-holed link accepts
/// our writes silently, so sending alone proves nothing). If nothing at all arrives from the broker
/// within `pingTimeout` of that PINGREQ, the connection is dead: a silent link is detected within
/// `interval + pingTimeout` of its last received byte. No clock or timer inside; tested without sockets.
struct KeepAlive: Sendable {
    /// What the connection must do after a `check`.
    enum Action: Sendable, Equatable {
        case wait
        case ping
        case timeOut
    }

    let interval: TimeAmount
    let pingTimeout: TimeAmount
    private(set) var lastSent: NIODeadline
    private(set) var lastReceived: NIODeadline
    /// When the unanswered PINGREQ went out.
    private(set) var pingSentAt: NIODeadline?

    /// `pingTimeout` of zero or less falls back to `interval`.
    init(interval: TimeAmount, pingTimeout: TimeAmount, now: NIODeadline) {
        self.interval = interval
        self.pingTimeout = pingTimeout > .zero ? pingTimeout : interval
        lastSent = now
        lastReceived = now
    }

    /// Something was flushed to the broker.
    mutating func sent(at now: NIODeadline) {
        lastSent = max(lastSent, now)
    }

    /// Bytes arrived from the broker (or the broker is not to blame for their absence because
    /// we hold reads): the link is alive, an outstanding PINGREQ counts as answered.
    mutating func received(at now: NIODeadline) {
        lastReceived = max(lastReceived, now)
        pingSentAt = nil
    }

    /// Decides at `now`; on `.ping` the PINGREQ counts as sent.
    mutating func check(at now: NIODeadline) -> Action {
        if let pingSentAt {
            return now - pingSentAt >= pingTimeout ? .timeOut : .wait
        }
        guard now - lastSent >= interval || now - lastReceived >= interval else { return .wait }
        pingSentAt = now
        lastSent = now
        return .ping
    }

    /// When `check` may next have something to do, if nothing is sent or received before.
    var nextCheck: NIODeadline {
        if let pingSentAt { return pingSentAt + pingTimeout }
        return min(lastSent, lastReceived) + interval
    }
}
