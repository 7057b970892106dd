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
    /// Anomalous readings in a row, this one included (for `raised`, those that opened the
    /// episode): an alert raised by this signal counts them.
    var openingReadings = 1
    /// How many anomalous readings in a row open an episode (`Hysteresis.raiseAfter`): a
    /// condition going on after an operator resolved its alert raises a new one only as late.
    var raiseAfter = 1
}
