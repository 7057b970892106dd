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

    /// A reading with its score, as ingest hands it over.
    struct Observation {
        var reading: Reading
        var score: Double
        var severity: Severity?
    }

    /// A change to a device's anomaly episode, and the episode's severity after it.
    struct EpisodeChange {
        var observation: Observation
        var change: AnomalyEpisode.Change
        var severity: Severity?
    }

    /// Records a run of readings in order, under one lock; returns the episode changes they caused.
    func observe(_ observations: [Observation], receivedAt: Int64) -> [EpisodeChange] {
        devices.withLock { devices in
            var changes: [EpisodeChange] = []
            for observation in observations {
                let reading = observation.reading
                func update(_ device: inout Device) {
                    if reading.timestamp >= device.lastReadingAt {
                        device.lastReadingAt = reading.timestamp
                        device.values = reading.values
                        device.score = observation.score
                    }
                    device.receivedAt = receivedAt
                    device.readings += 1
                    if let change = device.episode.observe(observation.severity, rules: rules) {
                        changes.append(
                            EpisodeChange(observation: observation, change: change, severity: device.episode.severity))
                    }
                }
                update(
                    &devices[
                        reading.deviceID,
                        default: Device(
                            lastReadingAt: reading.timestamp, receivedAt: receivedAt, values: reading.values,
                            score: observation.score, episode: AnomalyEpisode(), readings: 0)
                    ])
            }
            return changes
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
