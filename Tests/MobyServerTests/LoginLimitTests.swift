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

    @Test func failuresCountPerAddressAndName() throws {
        let limit = LoginLimit(attemptsPerMinute: 2, maxChecks: 10)
        for _ in 0..<2 {
            let ticket = try #require(admitted(limit.admit(name: "alice", address: "10.0.0.9", now: now)))
            limit.finish(ticket, failed: true, now: now)
        }
        #expect(scope(limit.admit(name: "Alice", address: "10.0.0.9", now: now)) == .name)
        // Alice herself, at her own desk, is not locked out by someone else's failures.
        #expect(admitted(limit.admit(name: "alice", address: "10.0.0.5", now: now)) != nil)
        // A minute later the failures have leaked away (2 a minute).
        #expect(admitted(limit.admit(name: "alice", address: "10.0.0.9", now: now + .seconds(31))) != nil)
    }

    @Test func rightPasswordsAndUncheckedOnesGiveTheirTokensBack() throws {
        let limit = LoginLimit(attemptsPerMinute: 1, maxChecks: 10)
        for failed in [false, false, false] {
            let ticket = try #require(admitted(limit.admit(name: "bob", address: "10.0.0.5", now: now)))
            limit.finish(ticket, failed: failed, now: now)
        }
        let ticket = try #require(admitted(limit.admit(name: "bob", address: "10.0.0.5", now: now)))
        limit.finish(ticket, failed: true, now: now)
        #expect(scope(limit.admit(name: "bob", address: "10.0.0.5", now: now)) == .name)
    }

    @Test func oneAddressHasFourTimesTheLimitAcrossNames() throws {
        let limit = LoginLimit(attemptsPerMinute: 2, maxChecks: 10)
        for index in 0..<8 {
            let ticket = try #require(admitted(limit.admit(name: "user\(index)", address: "10.0.0.9", now: now)))
            limit.finish(ticket, failed: true, now: now)
        }
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
        limit.finish(first, failed: true, now: now)
        // The busy answers took no tokens: "c" still has both of its attempts.
        for _ in 0..<2 {
            let ticket = try #require(admitted(limit.admit(name: "c", address: "10.0.0.3", now: now)))
            limit.finish(ticket, failed: true, now: now)
        }
        #expect(scope(limit.admit(name: "c", address: "10.0.0.3", now: now)) == .name)
        limit.finish(second, failed: false, now: now)
        #expect(limit.checking == 0)
    }
}
