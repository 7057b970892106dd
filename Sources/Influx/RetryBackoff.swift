/// Capped exponential backoff with jitter, for retrying InfluxDB writes: spreads retries of many
/// writers so a recovering server is not hit by all of them at once.
public struct RetryBackoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(10), multiplier: Double = 2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
    }

    /// The delay before retry number `attempt` (1-based): a random point in the upper half of
    /// the capped exponential window, so it never collapses to zero.
    public func delay(attempt: Int) -> Duration {
        let base = Double(initial.components.seconds) + Double(initial.components.attoseconds) / 1e18
        let cap = Double(maximum.components.seconds) + Double(maximum.components.attoseconds) / 1e18
        let window = min(cap, base * pow(multiplier, Double(max(0, attempt - 1))))
        let seconds = window / 2 + Double.random(in: 0...(window / 2))
        return .nanoseconds(Int64(seconds * 1e9))
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 && result < 1e12 {
        result *= base
        remaining -= 1
    }
    return result
}
