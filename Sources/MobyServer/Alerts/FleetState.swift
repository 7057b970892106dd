import MobyCore
import Synchronization

/// What the server knows about each device right now: when it was last heard from, its latest
/// values and score, and its anomaly episode. Updated by ingest for every reading (one lock,
/// one hash), read by `GET /api/v1/devices`.
final class FleetState: Sendable {
    struct Device: Sendable {
        /// The latest reading's own timestamp, and when the server received it (ns).
        var lastReadingAt: Int64
        var receivedAt: Int64
        var values: [MetricValue]
        var score: Double
        var episode: AnomalyEpisode
        var readings: Int64
    }

    let rules: Hysteresis
    private let devices = Mutex<[String: Device]>([:])

    init(rules: Hysteresis) {
        self.rules = rules
    }

    /// Records `reading`; returns the change to its device's anomaly episode (nil: none) and
    /// the episode's severity after it.
    func observe(_ reading: Reading, score: Double, severity: Severity?, receivedAt: Int64) -> (
        change: AnomalyEpisode.Change, severity: Severity?
    )? {
        devices.withLock { devices in
            func update(_ device: inout Device) -> (change: AnomalyEpisode.Change, severity: Severity?)? {
                if reading.timestamp >= device.lastReadingAt {
                    device.lastReadingAt = reading.timestamp
                    device.values = reading.values
                    device.score = score
                }
                device.receivedAt = receivedAt
                device.readings += 1
                return device.episode.observe(severity, rules: rules).map { ($0, device.episode.severity) }
            }
            return update(
                &devices[
                    reading.deviceID,
                    default: Device(
                        lastReadingAt: reading.timestamp, receivedAt: receivedAt, values: reading.values, score: score,
                        episode: AnomalyEpisode(), readings: 0)
                ])
        }
    }

    /// Marks devices with an open, uncleared alert as in an episode (after a restart), so that
    /// normal readings clear it and anomalous ones update it rather than open another.
    func resume(_ alerts: [Alert]) {
        devices.withLock { devices in
            for alert in alerts where alert.clearedAt == nil && alert.status.isOpen {
                devices[
                    alert.deviceID,
                    default: Device(
                        lastReadingAt: alert.lastSeenAt, receivedAt: 0, values: [], score: alert.score,
                        episode: AnomalyEpisode(), readings: 0)
                ].episode = AnomalyEpisode(severity: alert.severity)
            }
        }
    }

    /// Every device, sorted by id.
    func snapshot() -> [(id: String, device: Device)] {
        devices.withLock { $0.map { (id: $0.key, device: $0.value) } }.sorted { $0.id < $1.id }
    }
}
