import Backoff
import MobyCore
import Testing

@Suite struct BackoffTests {
    @Test func windowsGrowFromTheFirstRetryAndStopAtTheCap() {
        let backoff = Backoff()
        #expect(backoff.window(attempt: 1) == .milliseconds(100))
        #expect(backoff.window(attempt: 2) == .milliseconds(200))
        #expect(backoff.window(attempt: 4) == .milliseconds(800))
        #expect(backoff.window(attempt: 8) == .seconds(10))
        #expect(backoff.window(attempt: 10_000) == .seconds(10))
        #expect(backoff.window(attempt: Int.max) == .seconds(10))
        #expect(backoff.window(attempt: 0) == .milliseconds(100), "attempts below 1 count as the first")
    }

    @Test func delaysAreSpreadOverTheUpperHalfOfTheWindow() {
        let backoff = Backoff()
        var generator = SplitMix64(seed: 7)
        var delays: Set<Duration> = []
        for _ in 0..<200 {
            let delay = backoff.delay(attempt: 6, using: &generator)
            #expect(delay >= .milliseconds(1600) && delay <= .milliseconds(3200))
            delays.insert(delay)
        }
        #expect(delays.count > 150, "jittered, not one value")
        #expect(Backoff(jitter: false).delay(attempt: 3) == .milliseconds(400))
    }

    @Test func aMultiplierBelowOneDoesNotShrinkTheWindow() {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(5), multiplier: 0.5, jitter: false)
        #expect(backoff.delay(attempt: 5) == .seconds(1))
    }
}
