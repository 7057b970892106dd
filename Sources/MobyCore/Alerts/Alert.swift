/// Where an alert is in its life: operators acknowledge it, then resolve it.
public enum AlertStatus: String, Sendable, Codable, CaseIterable {
    case pending
    case acknowledged
    case resolved

    /// Still needs attention (shown in the snapshot of open alerts).
    public var isOpen: Bool { self != .resolved }
}

/// A metric that makes a reading anomalous, as shown to operators.
public struct Contributor: Sendable, Equatable, Codable {
    public var metric: String
    public var value: Double
    public var unit: String
    public var nominal: Double?
    /// Normalized deviation `(value - nominal) / scale`.
    public var z: Double
    /// The limit the value is past, and its severity; nil when within limits.
    public var limit: Double?
    public var severity: Severity?

    public init(
        metric: String, value: Double, unit: String, nominal: Double?, z: Double, limit: Double?,
        severity: Severity?
    ) {
        self.metric = metric
        self.value = value
        self.unit = unit
        self.nominal = nominal
        self.z = z
        self.limit = limit
        self.severity = severity
    }
}

/// One anomaly episode of one device under one rule. Opened by the engine, updated while the
/// episode goes on (never a second open alert for the same device and rule), acknowledged and
/// resolved by operators. Times are nanoseconds since the Unix epoch.
public struct Alert: Sendable, Equatable {
    /// The rule that raised every alert so far: score or per-metric limits, with hysteresis.
    public static let anomalyRule = "anomaly"

    public var id: Int64
    public var deviceID: String
    public var rule: String
    public var severity: Severity
    public var status: AlertStatus
    /// The latest anomalous reading's score, and the highest seen in the episode.
    public var score: Double
    public var peakScore: Double
    /// The latest anomalous reading's most deviant metrics.
    public var contributors: [Contributor]
    /// Anomalous readings in the episode.
    public var readingCount: Int
    public var raisedAt: Int64
    public var lastSeenAt: Int64
    /// When the condition cleared (nil while it lasts; reset if it comes back).
    public var clearedAt: Int64?
    public var acknowledgedAt: Int64?
    public var acknowledgedBy: String?
    public var resolvedAt: Int64?
    public var resolvedBy: String?
    /// The deterministic template summary (`AlertSummary`), always current.
    public var summary: String
    /// An LLM's rewrite of the summary, when one is configured and answered in time.
    public var narrative: String?
    public var updatedAt: Int64
    /// The device profile whose limits judged the episode (`default` unless the device has one).
    public var profile: String = SensorCatalog.defaultProfile

    public init(
        id: Int64 = 0, deviceID: String, rule: String = Alert.anomalyRule, severity: Severity,
        status: AlertStatus = .pending, score: Double, peakScore: Double, contributors: [Contributor],
        readingCount: Int, raisedAt: Int64, lastSeenAt: Int64, clearedAt: Int64? = nil,
        acknowledgedAt: Int64? = nil, acknowledgedBy: String? = nil, resolvedAt: Int64? = nil,
        resolvedBy: String? = nil, summary: String = "", narrative: String? = nil, updatedAt: Int64
    ) {
        self.id = id
        self.deviceID = deviceID
        self.rule = rule
        self.severity = severity
        self.status = status
        self.score = score
        self.peakScore = peakScore
        self.contributors = contributors
        self.readingCount = readingCount
        self.raisedAt = raisedAt
        self.lastSeenAt = lastSeenAt
        self.clearedAt = clearedAt
        self.acknowledgedAt = acknowledgedAt
        self.acknowledgedBy = acknowledgedBy
        self.resolvedAt = resolvedAt
        self.resolvedBy = resolvedBy
        self.summary = summary
        self.narrative = narrative
        self.updatedAt = updatedAt
    }
}
