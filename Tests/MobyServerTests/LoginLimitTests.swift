import NIOCore
import Testing

@testable import MobyServer

/// `LoginLimit` as a value over a fixed clock: whose attempts count, when tokens come back, and
/// the cap on password checks at once.
@Suite struct LoginLimitTests {
    let now = ContinuousClock.now

    func admitted(_ admission: LoginLimit.Admission) -> LoginLimit.Ticket? {
        if case .admitted(let ticket) = admission { return ticket }
        return nil
    }

    func scope(_ admission: LoginLimit.Admission) -> LoginLimit.Scope? {
        if case .limited(_, let scope) = admission { return scope }
        return nil
    }

    /// Fails one login per (name, address) pair, each of which must be admitted.
    func fail(_ limit: LoginLimit, _ attempts: [(name: String, address: String)]) throws {
        for attempt in attempts {
            let ticket = try #require(admitted(limit.admit(name: attempt.name, address: attempt.address, now: now)))
            limit.finish(ticket, .wrongPassword, now: now)
        }
    }

    @Test func failuresCountPerAddressAndName() throws {
        let limit = LoginLimit(attemptsPerMinute: 2, maxChecks: 10)
        try fail(limit, Array(repeating: ("alice", "10.0.0.9"), count: 2))
        #expect(scope(limit.admit(name: "Alice", address: "10.0.0.9", now: now)) == .name)
        // Alice herself, at her own desk, is not locked out by someone else's failures.
        #expect(admitted(limit.admit(name: "alice", address: "10.0.0.5", now: now)) != nil)
        // A minute later the failures have leaked away (2 a minute).
        #expect(admitted(limit.admit(name: "alice", address: "10.0.0.9", now: now + .seconds(31))) != nil)
    }

    @Test func rightPasswordsAndUncheckedOnesGiveTheirTokensBack() throws {
        let limit = LoginLimit(attemptsPerMinute: 1, maxChecks: 10)
        for outcome in [LoginLimit.Outcome.rightPassword, .unchecked, .rightPassword] {
            let ticket = try #require(admitted(limit.admit(name: "bob", address: "10.0.0.5", now: now)))
            limit.finish(ticket, outcome, now: now)
        }
        let ticket = try #require(admitted(limit.admit(name: "bob", address: "10.0.0.5", now: now)))
        limit.finish(ticket, .wrongPassword, now: now)
        #expect(scope(limit.admit(name: "bob", address: "10.0.0.5", now: now)) == .name)
    }

    @Test func oneAddressHasFourTimesTheLimitAcrossNames() throws {
        let limit = LoginLimit(attemptsPerMinute: 2, maxChecks: 10)
        try fail(limit, (0..<8).map { ("user\($0)", "10.0.0.9") })
        #expect(scope(limit.admit(name: "user8", address: "10.0.0.9", now: now)) == .address)
        #expect(admitted(limit.admit(name: "user8", address: "10.0.0.10", now: now)) != nil)
    }

    @Test func checksAtOnceAreCappedAndRefusalsCostNothing() throws {
        let limit = LoginLimit(attemptsPerMinute: 2, maxChecks: 2)
        let first = try #require(admitted(limit.admit(name: "a", address: "10.0.0.1", now: now)))
        let second = try #require(admitted(limit.admit(name: "b", address: "10.0.0.2", now: now)))
        for _ in 0..<5 {
            guard case .busy = limit.admit(name: "c", address: "10.0.0.3", now: now) else {
                Issue.record("a third check at once was admitted")
                return
            }
        }
        #expect(limit.checking == 2)
        limit.finish(first, .wrongPassword, now: now)
        // The busy answers took no tokens: "c" still has both of its attempts.
        for _ in 0..<2 {
            let ticket = try #require(admitted(limit.admit(name: "c", address: "10.0.0.3", now: now)))
            limit.finish(ticket, .wrongPassword, now: now)
        }
        #expect(scope(limit.admit(name: "c", address: "10.0.0.3", now: now)) == .name)
        limit.finish(second, .unchecked, now: now)
        #expect(limit.checking == 0)
    }

    @Test func aUserWhoLoggedInFromAnAddressIsNotHeldBackByOthersThere() throws {
        let limit = LoginLimit(attemptsPerMinute: 1, maxChecks: 10)
        let right = try #require(admitted(limit.admit(name: "alice", address: "10.0.0.7", now: now)))
        limit.finish(right, .rightPassword, now: now)
        // Someone else at the same address (a shared terminal, a NAT) fails on many names.
        try fail(limit, (0..<4).map { ("guess\($0)", "10.0.0.7") })
        #expect(scope(limit.admit(name: "guess9", address: "10.0.0.7", now: now)) == .address)
        // Alice still logs in from there.
        #expect(admitted(limit.admit(name: "Alice", address: "10.0.0.7", now: now)) != nil)
    }

    @Test func oneNameHasTenTimesTheLimitAcrossAddresses() throws {
        let limit = LoginLimit(attemptsPerMinute: 1, maxChecks: 100)
        try fail(limit, (0..<10).map { ("carol", "10.0.1.\($0)") })
        #expect(scope(limit.admit(name: "carol", address: "10.0.1.99", now: now)) == .account)
        // The refusal took nothing: that address still has its attempt for another name.
        #expect(admitted(limit.admit(name: "dave", address: "10.0.1.99", now: now)) != nil)
    }

    @Test func clientsAreKeyedByIPv4AddressOrIPv6Network() throws {
        #expect(ClientAddress.key(try SocketAddress(ipAddress: "10.1.2.3", port: 4711)) == "10.1.2.3")
        #expect(ClientAddress.key(try SocketAddress(ipAddress: "::ffff:10.1.2.3", port: 1)) == "10.1.2.3")
        let a = ClientAddress.key(try SocketAddress(ipAddress: "2001:db8:aa:bb:1:2:3:4", port: 1))
        let b = ClientAddress.key(try SocketAddress(ipAddress: "2001:db8:aa:bb:ffff::9", port: 2))
        #expect(a == "2001:db8:aa:bb::/64" && a == b)
        #expect(ClientAddress.key(try SocketAddress(ipAddress: "2001:db8:aa:bc::1", port: 1)) != a)
        #expect(ClientAddress.key(nil) == "unknown")
    }
}
