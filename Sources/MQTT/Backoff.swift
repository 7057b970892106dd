/// How long to wait before the next reconnect attempt: capped exponential backoff with full jitter,
/// so that many clients restarted together do not hammer a recovering broker in lockstep.
public struct MQTTBackoff: Sendable, Hashable {
    /// When false, `MQTTClient.run()` gives up (throws) on the first failed or lost connection.
    public var enabled: Bool
    public var initialDelay: Duration
    public var maxDelay: Duration
    public var multiplier: Double
    /// Full jitter: the delay is drawn uniformly from 0 up to the exponential value.
    public var jitter: Bool

    public init(
        enabled: Bool = true, initialDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(10),
        multiplier: Double = 2, jitter: Bool = true
    ) {
        self.enabled = enabled
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The capped exponential delay (before jitter) for the `attempt`-th retry, counting from 0.
    public func ceiling(forAttempt attempt: Int) -> Duration {
        let initial = Self.seconds(initialDelay)
        let cap = Self.seconds(maxDelay)
        let exponential = initial * pow(max(multiplier, 1), Double(max(attempt, 0)))
        let seconds = min(exponential.isFinite ? exponential : cap, cap)
        return .nanoseconds(Int64(max(seconds, 0) * 1e9))
    }

    /// The delay before the `attempt`-th retry, counting from 0.
    public func delay(forAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(forAttempt: attempt, using: &generator)
    }

    /// The delay before the `attempt`-th retry, drawing jitter from `generator`.
    public func delay<G: RandomNumberGenerator>(forAttempt attempt: Int, using generator: inout G) -> Duration {
        let ceiling = ceiling(forAttempt: attempt)
        guard jitter else { return ceiling }
        let nanos = Self.seconds(ceiling) * 1e9
        guard nanos >= 1 else { return .zero }
        return .nanoseconds(Int64(Double.random(in: 0...nanos, using: &generator)))
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0 && result.isFinite {
            result *= base
            remaining -= 1
            if result > 1e12 { return .infinity }
        }
        return result
    }
}
