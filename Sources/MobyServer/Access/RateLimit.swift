import Synchronization

/// Token buckets by key (a credential, a login name): `rate` per second on average, `burst` at
/// once. Answers how long to wait when a bucket is empty (`Retry-After`). Memory stays bounded:
/// past `maxKeys`, full buckets (keys that have been quiet) are forgotten.
final class RateLimit: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    let burst: Double
    private let maxKeys: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rate: Double, burst: Double, maxKeys: Int = 10_000) {
        precondition(rate > 0 && burst >= 1)
        self.rate = rate
        self.burst = burst
        self.maxKeys = maxKeys
    }

    /// Takes `cost` from `key`'s bucket: nil when allowed, else how long until it would be.
    func take(_ key: String, cost: Double = 1, now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            var bucket = refilled(buckets[key], now: now)
            guard bucket.tokens >= cost else { return wait(for: cost - bucket.tokens) }
            bucket.tokens -= cost
            if buckets[key] == nil && buckets.count >= maxKeys { forgetQuiet(&buckets, now: now) }
            buckets[key] = bucket
            return nil
        }
    }

    /// Gives back `cost` taken from `key` (an attempt that turned out not to count), up to the
    /// burst.
    func refund(_ key: String, cost: Double = 1, now: ContinuousClock.Instant = .now) {
        buckets.withLock { buckets in
            guard buckets[key] != nil else { return }
            var bucket = refilled(buckets[key], now: now)
            bucket.tokens = min(burst, bucket.tokens + cost)
            buckets[key] = bucket
        }
    }

    private func refilled(_ bucket: Bucket?, now: ContinuousClock.Instant) -> Bucket {
        guard var bucket else { return Bucket(tokens: burst, updated: now) }
        let elapsed = now - bucket.updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        bucket.tokens = min(burst, bucket.tokens + max(0, seconds) * rate)
        bucket.updated = now
        return bucket
    }

    private func wait(for missing: Double) -> Duration {
        .milliseconds(Int64((missing / rate * 1_000).rounded(.up)))
    }

    private func forgetQuiet(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant) {
        buckets = buckets.filter { refilled($0.value, now: now).tokens < burst }
        if buckets.count >= maxKeys { buckets.removeAll() }
    }
}

extension Duration {
    /// Whole seconds, rounded up (at least 1): a `Retry-After` value.
    var retryAfterSeconds: Int {
        let components = components
        return max(1, Int(components.seconds) + (components.attoseconds > 0 ? 1 : 0))
    }
}
