import Synchronization

/// What stands between `POST /api/v1/session` and bcrypt. Each attempt takes a token before its
/// password is checked (and gets it back when the password was right), so attempts sent at once
/// cannot all pass a bucket that only had room for a few. The guessing limit is per client
/// address and name, so someone failing on purpose with a colleague's name only slows down
/// their own address, never the colleague's login elsewhere; a looser limit per address stops
/// one host from trying a password against many names. Checks running at once are capped: each
/// costs about a quarter of a second of CPU, and logins with new names would otherwise queue
/// without bound behind one another (503 with `Retry-After` instead).
final class LoginLimit: Sendable {
    /// Attempts per client address and name.
    let perName: RateLimit
    /// Attempts per client address, whatever the name.
    let perAddress: RateLimit
    /// Password checks running or waiting for a thread at once.
    let maxChecks: Int
    private let checks = Atomic<Int>(0)

    /// `attemptsPerMinute` per address and name (and as a burst); four times that per address.
    init(attemptsPerMinute: Int, maxChecks: Int) {
        let attempts = Double(attemptsPerMinute)
        perName = RateLimit(rate: attempts / 60, burst: attempts)
        perAddress = RateLimit(rate: 4 * attempts / 60, burst: 4 * attempts)
        self.maxChecks = maxChecks
    }

    /// An admitted attempt: hand it back to `finish` once its password was checked.
    struct Ticket: Sendable {
        fileprivate let nameKey: String
        fileprivate let addressKey: String
    }

    enum Admission: Sendable {
        case admitted(Ticket)
        /// Too many attempts: `scope` says whose (this name from this address, or this address).
        case limited(retryAfter: Duration, scope: Scope)
        /// Too many password checks under way on the whole server.
        case busy
    }

    enum Scope: Sendable, Equatable { case name, address }

    func admit(name: String, address: String, now: ContinuousClock.Instant = .now) -> Admission {
        let addressKey = address
        // Names differ only in case for the same account (and a bucket key must not mix the two
        // parts: an address holds no NUL).
        let nameKey = address + "\u{0}" + name.lowercased()
        if let wait = perName.take(nameKey, now: now) { return .limited(retryAfter: wait, scope: .name) }
        if let wait = perAddress.take(addressKey, now: now) {
            perName.refund(nameKey, now: now)
            return .limited(retryAfter: wait, scope: .address)
        }
        let admitted = checks.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= maxChecks
        guard admitted else {
            checks.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            perName.refund(nameKey, now: now)
            perAddress.refund(addressKey, now: now)
            return .busy
        }
        return .admitted(Ticket(nameKey: nameKey, addressKey: addressKey))
    }

    /// The check of `ticket` is over. Only a wrong password (`failed`) keeps its tokens: a right
    /// one, or one that could not be checked (the database failed), gets them back.
    func finish(_ ticket: Ticket, failed: Bool, now: ContinuousClock.Instant = .now) {
        checks.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        guard !failed else { return }
        perName.refund(ticket.nameKey, now: now)
        perAddress.refund(ticket.addressKey, now: now)
    }

    /// Checks under way (for tests and metrics).
    var checking: Int { checks.load(ordering: .relaxed) }
}
