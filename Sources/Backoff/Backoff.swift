/// The one retry schedule of MOBY (MQTT reconnects, InfluxDB write retries, the subscribe
/// loop): capped exponential backoff with jitter. Attempts count from 1, the first retry. The
/// delay is drawn from the upper half of the capped window ("equal jitter"): many clients
/// restarted together spread out instead of hitting a recovering server in lockstep, and a
/// retry never collapses to an immediate one.
public struct Backoff: Sendable, Hashable {
    /// The window of the first retry.
    public var initial: Duration
    /// No window grows past this.
    public var maximum: Duration
    public var multiplier: Double
    /// Off: the delay is the whole window (for tests and tools that need it exact).
    public var jitter: Bool

    public init(
        initial: Duration = .milliseconds(100), maximum: Duration = .seconds(10), multiplier: Double = 2,
        jitter: Bool = true
    ) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The capped exponential window of retry `attempt` (1-based).
    public func window(attempt: Int) -> Duration {
        let cap = Self.seconds(maximum)
        var seconds = Self.seconds(initial)
        var remaining = max(attempt, 1) - 1
        while remaining > 0 && seconds < cap {
            seconds *= max(multiplier, 1)
            remaining -= 1
        }
        return .nanoseconds(Int64(max(min(seconds, cap), 0) * 1e9))
    }

    /// The delay before retry `attempt` (1-based).
    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }

    /// The delay before retry `attempt` (1-based), drawing the jitter from `generator`.
    public func delay<G: RandomNumberGenerator>(attempt: Int, using generator: inout G) -> Duration {
        let window = window(attempt: attempt)
        guard jitter else { return window }
        let nanos = Self.seconds(window) * 1e9
        guard nanos >= 2 else { return window }
        return .nanoseconds(Int64(Double.random(in: (nanos / 2)...nanos, using: &generator)))
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
