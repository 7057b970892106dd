import MobyCore

/// A change in a device's anomaly episode, passed from ingest to the alert center.
struct AnomalySignal: Sendable {
    var deviceID: String
    var change: AnomalyEpisode.Change
    /// The episode's severity after the change (nil once cleared).
    var severity: Severity?
    var assessment: AnomalyAssessment
    /// The profile that judged the reading (its limits are the alert's).
    var profile: String = SensorCatalog.defaultProfile
    /// The reading's timestamp (ns).
    var readingAt: Int64
    /// When the server received the reading (ns), for the raise latency metric.
    var receivedAt: Int64 = WallClock.nanoseconds()
    /// Anomalous readings in a row that opened the episode (for `raised`): the alert counts them.
    var openingReadings = 1
}
