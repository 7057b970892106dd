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
        /// The sensor timestamp most recently seen and the content hashes of the readings that
        /// carried it (at most `FleetState.maxSharedStamps`), to find readings that share one.
        var stamp: Int64 = .min
        var stampHashes: [UInt64] = []
    }

    let rules: Hysteresis
    /// Devices the server keeps track of; readings of further new devices are refused.
    let maxDevices: Int
    private let devices = Mutex<[String: Device]>([:])
    /// Distinct readings per coarse timestamp tracked for collisions.
    static let maxSharedStamps = 64

    init(rules: Hysteresis, maxDevices: Int = .max) {
        self.rules = rules
        self.maxDevices = maxDevices
    }

    /// A reading with its score, as ingest hands it over.
    struct Observation {
        var reading: Reading
        var score: Double
        var severity: Severity?
        /// The message's position in its run.
        var position: Int = 0
        /// The reading's own timestamp and content hash (see `ReadingStamp`).
        var stamp: ReadingStamp.Stamp?
    }

    /// Why an observation was not taken.
    enum Refusal: Equatable {
        /// A new device while `maxDevices` are known.
        case deviceLimit(Int)
        /// Another reading of the device, with other values, has the same stored timestamp.
        case timestampCollision
    }

    /// What a run of observations did.
    struct Outcome {
        var changes: [EpisodeChange] = []
        /// Positions (in the run) of refused observations, with the reason.
        var refused: [(position: Int, refusal: Refusal)] = []
        /// Readings that shared a whole-second timestamp with a different reading of their
        /// device (kept apart by their offsets).
        var sharedStamps = 0
    }

    /// A change to a device's anomaly episode, and the episode's severity after it.
    struct EpisodeChange {
        var observation: Observation
        var change: AnomalyEpisode.Change
        var severity: Severity?
    }

    /// Records a run of readings in order, under one lock; returns the episode changes they
    /// caused and the readings refused (a new device beyond the limit, a timestamp collision).
    func observe(_ observations: [Observation], receivedAt: Int64) -> Outcome {
        devices.withLock { devices in
            var outcome = Outcome()
            for observation in observations {
                let reading = observation.reading
                // The sensor's own time decides which reading is the latest (the stored one may
                // carry a disambiguating offset); on a tie the later arrival wins.
                let sensorTime = observation.stamp?.sensorTimestamp ?? reading.timestamp
                if devices[reading.deviceID] == nil, devices.count >= maxDevices {
                    outcome.refused.append((observation.position, .deviceLimit(maxDevices)))
                    continue
                }
                func update(_ device: inout Device) -> Refusal? {
                    if let stamp = observation.stamp {
                        if stamp.sensorTimestamp != device.stamp {
                            device.stamp = stamp.sensorTimestamp
                            device.stampHashes = [stamp.hash]
                        } else if !device.stampHashes.contains(stamp.hash) {
                            // Same timestamp, other values: apart only if the offsets differ.
                            let offset = ReadingStamp.Stamp.offset(of: stamp.hash)
                            if !stamp.offset
                                || device.stampHashes.contains(where: { ReadingStamp.Stamp.offset(of: $0) == offset })
                            {
                                return .timestampCollision
                            }
                            outcome.sharedStamps += 1
                            if device.stampHashes.count < Self.maxSharedStamps { device.stampHashes.append(stamp.hash) }
                        }
                    }
                    if sensorTime >= device.lastReadingAt {
                        device.lastReadingAt = sensorTime
                        device.values = reading.values
                        device.score = observation.score
                    }
                    device.receivedAt = receivedAt
                    device.readings += 1
                    if let change = device.episode.observe(observation.severity, rules: rules) {
                        outcome.changes.append(
                            EpisodeChange(observation: observation, change: change, severity: device.episode.severity))
                    }
                    return nil
                }
                let refusal = update(
                    &devices[
                        reading.deviceID,
                        default: Device(
                            lastReadingAt: sensorTime, receivedAt: receivedAt, values: reading.values,
                            score: observation.score, episode: AnomalyEpisode(), readings: 0)
                    ])
                if let refusal { outcome.refused.append((observation.position, refusal)) }
            }
            return outcome
        }
    }

    /// Whether a reading of `deviceID` would be taken now (known, or room for one more).
    func admits(_ deviceID: String) -> Bool {
        devices.withLock { $0[deviceID] != nil || $0.count < maxDevices }
    }

    /// Devices known.
    var count: Int { devices.withLock { $0.count } }

    /// Marks devices with an open, uncleared alert as in an episode (after a restart), so that
    /// normal readings clear it and anomalous ones update it rather than open another.
    func resume(_ alerts: [Alert]) {
        devices.withLock { devices in
            for alert in alerts where alert.clearedAt == nil && alert.status.isOpen {
                devices[
                    alert.deviceID,
                    default: Device(
                        // Heard from last when the alert last saw it (not at the epoch: the console
                        // would say "20,000 days ago").
                        lastReadingAt: alert.lastSeenAt, receivedAt: alert.lastSeenAt, values: [], score: alert.score,
                        episode: AnomalyEpisode(), readings: 0)
                ].episode = AnomalyEpisode(severity: alert.severity)
            }
        }
    }

    /// Every device, sorted by id.
    func snapshot() -> [(id: String, device: Device)] {
        devices.withLock { $0.map { (id: $0.key, device: $0.value) } }.sorted { $0.id < $1.id }
    }

    /// One device's state, nil when the server has not heard from it.
    func device(_ id: String) -> Device? { devices.withLock { $0[id] } }

    /// One page of devices in id order, and how many there are.
    func page(offset: Int, limit: Int) -> (devices: [(id: String, device: Device)], total: Int) {
        let all = snapshot()
        guard offset < all.count else { return ([], all.count) }
        return (Array(all[offset..<min(all.count, offset + limit)]), all.count)
    }
}

extension FleetState.Refusal {
    /// The reason a refused reading is dead-lettered (or `/publish` answers 422) with.
    var rejection: ReadingRejection {
        switch self {
        case .deviceLimit(let limit):
            ReadingRejection(
                field: "device_id",
                "the server already tracks its limit of \(limit) devices (MOBY_MAX_DEVICES); readings of new devices are refused"
            )
        case .timestampCollision:
            ReadingRejection(
                field: "timestamp",
                "another reading of this device has the same timestamp and cannot be told apart from it; stamp readings more precisely"
            )
        }
    }
}
