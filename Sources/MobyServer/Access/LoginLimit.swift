import Synchronization

/// What stands between `POST /api/v1/session` and bcrypt. Each attempt takes its tokens before
/// its password is checked (a right password gets them back), so attempts sent at once cannot
/// all pass a bucket that only had room for a few. Three buckets:
/// - per client address and name: the guessing limit, so someone failing on purpose with a
///   colleague's name only slows down their own address, never the colleague elsewhere;
/// - per address across names (four times looser): one host trying a password on many names;
/// - per name across addresses (ten times looser): many hosts guessing one account.
/// The last two spare a name that logged in successfully from that address lately: its user is
/// not held back by someone else failing at the same address (a shared terminal, a NAT) or with
/// the same name. Checks running at once are capped: each costs about a quarter of a second of
/// CPU, and logins with new names would otherwise queue without bound (503 with `Retry-After`).
final class LoginLimit: Sendable {
    /// Attempts per client address and name.
    let perName: RateLimit
    /// Attempts per client address, whatever the name.
    let perAddress: RateLimit
    /// Attempts per name, whatever the address.
    let perAccount: RateLimit
    /// Password checks running or waiting for a thread at once.
    let maxChecks: Int
    private let checks = Atomic<Int>(0)
    /// Address-and-name keys that logged in successfully, and when.
    private let known = Mutex<[String: ContinuousClock.Instant]>([:])

    /// How long a successful login spares its address and name from the looser limits.
    static let knownFor: Duration = .seconds(30 * 86_400)
    /// Successful logins remembered at most (the oldest are forgotten first).
    static let maxKnown = 10_000

    /// `attemptsPerMinute` per address and name (and as a burst); four times that per address,
    /// ten times per name.
    init(attemptsPerMinute: Int, maxChecks: Int) {
        let attempts = Double(attemptsPerMinute)
        perName = RateLimit(rate: attempts / 60, burst: attempts)
        perAddress = RateLimit(rate: 4 * attempts / 60, burst: 4 * attempts)
        perAccount = RateLimit(rate: 10 * attempts / 60, burst: 10 * attempts)
        self.maxChecks = maxChecks
    }

    /// An admitted attempt: hand it back to `finish` once its password was checked.
    struct Ticket: Sendable {
        fileprivate let nameKey: String
        fileprivate let addressKey: String?
        fileprivate let accountKey: String?
    }

    enum Admission: Sendable {
        case admitted(Ticket)
        /// Too many attempts: `scope` says whose.
        case limited(retryAfter: Duration, scope: Scope)
        /// Too many password checks under way on the whole server.
        case busy
    }

    enum Scope: Sendable, Equatable {
        /// This name from this address.
        case name
        /// This address, over all names.
        case address
        /// This name, over all addresses.
        case account
    }

    func admit(name: String, address: String, now: ContinuousClock.Instant = .now) -> Admission {
        // Names differ only in case for the same account (and a key must not mix its two parts:
        // an address holds no NUL).
        let account = name.lowercased()
        let nameKey = address + "\u{0}" + account
        if let wait = perName.take(nameKey, now: now) { return .limited(retryAfter: wait, scope: .name) }
        var ticket = Ticket(nameKey: nameKey, addressKey: nil, accountKey: nil)
        if !isKnown(nameKey, now: now) {
            if let wait = perAddress.take(address, now: now) {
                give(ticket, now: now)
                return .limited(retryAfter: wait, scope: .address)
            }
            ticket = Ticket(nameKey: nameKey, addressKey: address, accountKey: nil)
            if let wait = perAccount.take(account, now: now) {
                give(ticket, now: now)
                return .limited(retryAfter: wait, scope: .account)
            }
            ticket = Ticket(nameKey: nameKey, addressKey: address, accountKey: account)
        }
        guard checks.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= maxChecks else {
            checks.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            give(ticket, now: now)
            return .busy
        }
        return .admitted(ticket)
    }

    /// How a check ended.
    enum Outcome: Sendable {
        case wrongPassword, rightPassword
        /// The password could not be checked (the database failed): it does not count.
        case unchecked
    }

    /// The check of `ticket` is over. Only a wrong password keeps its tokens; a right one also
    /// makes its address and name known.
    func finish(_ ticket: Ticket, _ outcome: Outcome, now: ContinuousClock.Instant = .now) {
        checks.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        guard outcome != .wrongPassword else { return }
        give(ticket, now: now)
        if outcome == .rightPassword { remember(ticket.nameKey, now: now) }
    }

    /// Checks under way (for tests and metrics).
    var checking: Int { checks.load(ordering: .relaxed) }

    private func give(_ ticket: Ticket, now: ContinuousClock.Instant) {
        perName.refund(ticket.nameKey, now: now)
        if let address = ticket.addressKey { perAddress.refund(address, now: now) }
        if let account = ticket.accountKey { perAccount.refund(account, now: now) }
    }

    private func isKnown(_ key: String, now: ContinuousClock.Instant) -> Bool {
        known.withLock { known in known[key].map { now - $0 < Self.knownFor } ?? false }
    }

    private func remember(_ key: String, now: ContinuousClock.Instant) {
        known.withLock { known in
            if known[key] == nil, known.count >= Self.maxKnown {
                known = known.filter { now - $0.value < Self.knownFor }
                if known.count >= Self.maxKnown, let oldest = known.min(by: { $0.value < $1.value }) {
                    known[oldest.key] = nil
                }
            }
            known[key] = now
        }
    }
}
