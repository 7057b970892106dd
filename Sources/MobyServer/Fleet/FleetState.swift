import MobyCore
import Synchronization

/// What the server knows about each device right now: its registry entry (name, location, line,
/// profile, labels), when it was last heard from, its latest values and score, and its anomaly
/// episode. Updated by ingest for every reading (one lock, one hash: the reading is scored by its
/// device's profile under it), read by `GET /api/v1/devices`, changed by `PUT`.
final class FleetState: Sendable {
    struct Device: Sendable {
        var meta: DeviceMeta
        /// Index of `meta.profile` in `FleetState.profiles`.
        var profileIndex: Int = 0
        /// `meta.tagBytes`, kept for the hot path.
        var tagBytes: [UInt8] = []
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
    /// Distinct values of one registry tag (location, line, a label) at most: each is a series
    /// in InfluxDB and an entry in Grafana's lists.
    let maxTagValues: Int
    /// The catalog's profiles, `default` first, and a scorer for each (same order).
    let profiles: [SensorCatalog]
    let scorers: [AnomalyScorer]
    private let state = Mutex(State())
    /// Distinct readings per coarse timestamp tracked for collisions.
    static let maxSharedStamps = 64

    private struct State {
        var devices: [String: Device] = [:]
        /// How many devices carry each tag value, by tag key.
        var tagCounts: [String: [String: Int]] = [:]
    }

    init(
        rules: Hysteresis, maxDevices: Int = .max,
        catalog: SensorCatalog = .init(entries: [], score: .init(warning: 3, critical: 5)), maxTagValues: Int = 1_000
    ) {
        self.rules = rules
        self.maxDevices = maxDevices
        self.maxTagValues = maxTagValues
        profiles = catalog.profileNames.compactMap { catalog.profile(named: $0) }
        scorers = profiles.map { AnomalyScorer(catalog: $0) }
    }

    /// A reading as ingest hands it over; `observe` scores it by its device's profile.
    struct Observation {
        var reading: Reading
        var score: Double = 0
        var severity: Severity?
        /// The message's position in its run.
        var position: Int = 0
        /// The reading's own timestamp and content hash (see `ReadingStamp`).
        var stamp: ReadingStamp.Stamp?
        /// The broker marked the message as sent before (DUP): it may have been observed already.
        var redelivered = false
        /// Set by `observe`: the device's profile (index into `profiles`) and registry tags.
        var profileIndex: Int = 0
        var tags: [UInt8] = []
    }

    /// Why an observation was not taken.
    enum Refusal: Equatable {
        /// A new device while `maxDevices` are known.
        case deviceLimit(Int)
        /// Another reading of the device, with other values, has the same stored timestamp.
        case timestampCollision
        /// A new value of a registry tag while `limit` distinct ones are in use.
        case tagLimit(key: String, limit: Int)
    }

    /// What a run of observations did.
    struct Outcome {
        var changes: [EpisodeChange] = []
        /// Positions (in the run) of refused observations, with the reason.
        var refused: [(position: Int, refusal: Refusal)] = []
        /// The observations taken, scored and tagged, in run order.
        var taken: [Observation] = []
        /// Registry entries created or changed by the run (new devices, a reading's location or
        /// line), to be stored.
        var registered: [(id: String, meta: DeviceMeta)] = []
        /// Readings that shared a whole-second timestamp with a different reading of their
        /// device (kept apart by their offsets).
        var sharedStamps = 0
    }

    /// A change to a device's anomaly episode, and the episode's severity after it.
    struct EpisodeChange {
        var observation: Observation
        var change: AnomalyEpisode.Change
        var severity: Severity?
        /// Anomalous readings in a row, this one included.
        var run: Int
    }

    /// Records a run of readings in order, under one lock: registers new devices (default
    /// profile), applies a reading's location and line, scores each reading by its device's
    /// profile; returns the readings taken (scored and tagged), the episode changes they caused
    /// and the readings refused (a new device beyond the limit, a timestamp collision, a new tag
    /// value beyond the limit).
    func observe(_ observations: [Observation], receivedAt: Int64) -> Outcome {
        state.withLock { state in
            var outcome = Outcome()
            outcome.taken.reserveCapacity(observations.count)
            for var observation in observations {
                let reading = observation.reading
                // The sensor's own time decides which reading is the latest (the stored one may
                // carry a disambiguating offset); on a tie the later arrival wins.
                let sensorTime = observation.stamp?.sensorTimestamp ?? reading.timestamp
                // One hash lookup per reading; the device is updated in place through its index
                // (through `devices[id]!` the whole entry was moved out and back each time).
                var index = state.devices.index(forKey: reading.deviceID)
                let known = index != nil
                if !known, state.devices.count >= maxDevices {
                    outcome.refused.append((observation.position, .deviceLimit(maxDevices)))
                    continue
                }
                // The registry only changes for a new device or a reading that names its place.
                if !known || reading.location != nil || reading.line != nil {
                    let current = index.map { state.devices.values[$0].meta }
                    var meta = current ?? DeviceMeta(firstSeen: receivedAt)
                    if let location = reading.location { meta.location = location }
                    if let line = reading.line { meta.line = line }
                    if meta != current {
                        if let refusal = Self.admitTags(meta, replacing: current, in: state, limit: maxTagValues) {
                            outcome.refused.append((observation.position, refusal))
                            continue
                        }
                        if !known {
                            state.devices[reading.deviceID] = Device(
                                meta: meta, lastReadingAt: sensorTime, receivedAt: receivedAt, values: reading.values,
                                score: 0, episode: AnomalyEpisode(), readings: 0)
                        }
                        Self.apply(&state, id: reading.deviceID, meta: meta, profiles: profiles)
                        outcome.registered.append((reading.deviceID, meta))
                        // An insertion may have moved every entry.
                        index = state.devices.index(forKey: reading.deviceID)
                    }
                }
                // Known, or inserted above (a new device is refused or inserted, never neither).
                guard let index else { preconditionFailure("device \(reading.deviceID) neither refused nor added") }
                func update(_ device: inout Device) -> Refusal? {
                    (observation.score, observation.severity) = scorers[device.profileIndex].score(reading)
                    observation.profileIndex = device.profileIndex
                    observation.tags = device.tagBytes
                    // The same reading again, or one the broker redelivers (DUP) that is not newer
                    // than the device's latest, is stored (it overwrites its own point) but not
                    // counted again: a run redelivered after a reconnect must not raise, re-raise
                    // or clear an alert a second time. A reading merely older than the latest
                    // (a sensor's clock stepped back) still counts.
                    let latestBefore = device.lastReadingAt
                    var repeated = observation.redelivered && sensorTime <= latestBefore
                    if let stamp = observation.stamp {
                        if stamp.sensorTimestamp != device.stamp {
                            device.stamp = stamp.sensorTimestamp
                            device.stampHashes = [stamp.hash]
                        } else if device.stampHashes.contains(stamp.hash) {
                            repeated = true
                        } else {
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
                    if sensorTime >= latestBefore {
                        device.lastReadingAt = sensorTime
                        device.values = reading.values
                        device.score = observation.score
                    }
                    device.receivedAt = receivedAt
                    if repeated { return nil }
                    device.readings += 1
                    if let change = device.episode.observe(observation.severity, rules: rules) {
                        outcome.changes.append(
                            EpisodeChange(
                                observation: observation, change: change, severity: device.episode.severity,
                                run: device.episode.anomalousRun))
                    }
                    return nil
                }
                if let refusal = update(&state.devices.values[index]) {
                    outcome.refused.append((observation.position, refusal))
                } else {
                    outcome.taken.append(observation)
                }
            }
            return outcome
        }
    }

    /// Why the tags of `meta` cannot be taken (a new value of a key that has `limit` distinct
    /// ones already), nil when they can; `previous` is what the device carries now.
    private static func admitTags(_ meta: DeviceMeta, replacing previous: DeviceMeta?, in state: State, limit: Int)
        -> Refusal?
    {
        for tag in meta.countedTags {
            let values = state.tagCounts[tag.key] ?? [:]
            if values[tag.value] == nil, values.count >= limit {
                return .tagLimit(key: tag.key, limit: limit)
            }
        }
        return nil
    }

    /// Sets a known device's registry entry, its profile index and tags, and the tag counts.
    private static func apply(_ state: inout State, id: String, meta: DeviceMeta, profiles: [SensorCatalog]) {
        guard var device = state.devices[id] else { return }
        for tag in device.tagBytes.isEmpty ? [] : device.meta.countedTags {
            state.tagCounts[tag.key, default: [:]][tag.value, default: 1] -= 1
            if state.tagCounts[tag.key]?[tag.value] == 0 { state.tagCounts[tag.key]?[tag.value] = nil }
        }
        for tag in meta.countedTags { state.tagCounts[tag.key, default: [:]][tag.value, default: 0] += 1 }
        device.meta = meta
        device.profileIndex = profiles.firstIndex { $0.profileName == meta.profile } ?? 0
        device.tagBytes = meta.tagBytes
        state.devices[id] = device
    }

    /// Why a reading would not be taken now (a new device beyond the limit, a new tag value
    /// beyond its limit), nil when it would.
    func admits(_ reading: Reading) -> Refusal? {
        state.withLock { state in
            let current = state.devices[reading.deviceID]
            if current == nil, state.devices.count >= maxDevices { return .deviceLimit(maxDevices) }
            var meta = current?.meta ?? DeviceMeta(firstSeen: 0)
            if let location = reading.location { meta.location = location }
            if let line = reading.line { meta.line = line }
            return Self.admitTags(meta, replacing: current?.meta, in: state, limit: maxTagValues)
        }
    }

    /// Whether a reading of `deviceID` would be taken now (known, or room for one more).
    func admits(_ deviceID: String) -> Bool {
        state.withLock { $0.devices[deviceID] != nil || $0.devices.count < maxDevices }
    }

    /// Devices known.
    var count: Int { state.withLock { $0.devices.count } }

    /// The registry entries stored by an earlier run, loaded at start: each device is known
    /// (stale until it reports) with its profile and tags.
    func load(_ entries: [(id: String, meta: DeviceMeta, lastSeen: Int64)]) {
        state.withLock { state in
            for entry in entries {
                if state.devices[entry.id] == nil {
                    state.devices[entry.id] = Device(
                        meta: entry.meta, lastReadingAt: entry.lastSeen, receivedAt: entry.lastSeen, values: [],
                        score: 0, episode: AnomalyEpisode(), readings: 0)
                }
                Self.apply(&state, id: entry.id, meta: entry.meta, profiles: profiles)
            }
        }
    }

    /// Why a registry change cannot be made.
    enum ChangeRefusal: Error, Equatable {
        case unknownProfile(String)
        case unknownLabel(String)
        case tagLimit(key: String, limit: Int)
        case deviceLimit(Int)
    }

    /// Replaces a device's editable registry entry (registering the device when it is new);
    /// returns the device as it is now. Takes effect for its next reading.
    func change(_ id: String, to change: DeviceMetaChange, allowedLabels: [String], at now: Int64) throws(ChangeRefusal)
        -> Device
    {
        guard profiles.contains(where: { $0.profileName == change.profile }) else {
            throw .unknownProfile(change.profile)
        }
        if let key = change.labels.keys.sorted().first(where: { !allowedLabels.contains($0) }) {
            throw .unknownLabel(key)
        }
        return try state.withLock { (state) throws(ChangeRefusal) -> Device in
            let current = state.devices[id]
            if current == nil, state.devices.count >= maxDevices { throw .deviceLimit(maxDevices) }
            var meta = current?.meta ?? DeviceMeta(firstSeen: now)
            meta.name = change.name
            meta.location = change.location
            meta.line = change.line
            meta.profile = change.profile
            meta.labels = change.labels
            if case .tagLimit(let key, let limit) = Self.admitTags(
                meta, replacing: current?.meta, in: state, limit: maxTagValues)
            {
                throw .tagLimit(key: key, limit: limit)
            }
            if current == nil {
                state.devices[id] = Device(
                    meta: meta, lastReadingAt: 0, receivedAt: 0, values: [], score: 0, episode: AnomalyEpisode(),
                    readings: 0)
            }
            Self.apply(&state, id: id, meta: meta, profiles: profiles)
            return state.devices[id]!
        }
    }

    /// Marks devices with an open, uncleared alert as in an episode (after a restart), so that
    /// normal readings clear it and anomalous ones update it rather than open another.
    func resume(_ alerts: [Alert]) {
        state.withLock { state in
            for alert in alerts where alert.clearedAt == nil && alert.status.isOpen {
                if state.devices[alert.deviceID] == nil {
                    // Heard from last when the alert last saw it (not at the epoch: the console
                    // would say "20,000 days ago").
                    state.devices[alert.deviceID] = Device(
                        meta: DeviceMeta(firstSeen: alert.raisedAt), lastReadingAt: alert.lastSeenAt,
                        receivedAt: alert.lastSeenAt, values: [], score: alert.score, episode: AnomalyEpisode(),
                        readings: 0)
                    Self.apply(
                        &state, id: alert.deviceID, meta: DeviceMeta(firstSeen: alert.raisedAt), profiles: profiles)
                }
                state.devices[alert.deviceID]?.episode = AnomalyEpisode(severity: alert.severity)
            }
        }
    }

    /// Every device, sorted by id.
    func snapshot() -> [(id: String, device: Device)] {
        state.withLock { $0.devices.map { (id: $0.key, device: $0.value) } }.sorted { $0.id < $1.id }
    }

    /// One device's state, nil when the server does not know it.
    func device(_ id: String) -> Device? { state.withLock { $0.devices[id] } }

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
        case .tagLimit(let key, let limit):
            ReadingRejection(
                field: key,
                "the fleet already has its limit of \(limit) distinct \(key) values (MOBY_MAX_TAG_VALUES); a new one is refused"
            )
        }
    }
}
