/// What the pipeline knows about each metric: unit, physically possible range, nominal value
/// and scale for the anomaly score, and warning/critical limits. One file (`config/sensors.json`)
/// drives validation, scoring, alerts and the threshold lines of the UI and Grafana.
public struct SensorCatalog: Sendable, Equatable {
    /// Alarm limits of one severity: a value above `high` or below `low` breaches it.
    public struct Limits: Sendable, Equatable {
        public var low: Double?
        public var high: Double?

        public init(low: Double? = nil, high: Double? = nil) {
            self.low = low
            self.high = high
        }

        /// The limit `value` is past, if any.
        public func breached(by value: Double) -> Double? {
            if let high, value > high { return high }
            if let low, value < low { return low }
            return nil
        }
    }

    /// One metric's description.
    public struct Entry: Sendable, Equatable {
        public var metric: Metric
        public var unit: String
        /// Values outside this range cannot come from a working sensor and are rejected.
        public var validRange: ClosedRange<Double>
        /// Expected value of a healthy machine; with `scale`, the normalized deviation
        /// `(value - nominal) / scale`. Nil for metrics that are not scored (counters).
        public var nominal: Double?
        /// The deviation that counts as one unit of anomaly (think: three healthy sigmas).
        public var scale: Double?
        public var warning: Limits
        public var critical: Limits

        public init(
            metric: Metric, unit: String, validRange: ClosedRange<Double>, nominal: Double? = nil,
            scale: Double? = nil, warning: Limits = Limits(), critical: Limits = Limits()
        ) {
            self.metric = metric
            self.unit = unit
            self.validRange = validRange
            self.nominal = nominal
            self.scale = scale
            self.warning = warning
            self.critical = critical
        }
    }

    /// Limits on the anomaly score (the L2 norm of all normalized deviations).
    public struct ScoreLimits: Sendable, Equatable {
        public var warning: Double
        public var critical: Double

        public init(warning: Double, critical: Double) {
            self.warning = warning
            self.critical = critical
        }
    }

    /// The name of the catalog's own limits, which every device has until it is given another
    /// profile.
    public static let defaultProfile = "default"

    public private(set) var entries: [Metric: Entry]
    public var score: ScoreLimits
    /// This catalog's profile name: `default`, or the profile it was resolved for.
    public var profileName: String = SensorCatalog.defaultProfile
    /// Named profiles (ThingsBoard's device profiles): the default metrics with some nominal
    /// values, scales and limits overridden for one kind of machine (a cold room, a press),
    /// already resolved. Only the default catalog has them.
    public var profiles: [String: SensorCatalog] = [:]
    /// Keys a device may carry as free labels (stored as InfluxDB tags, so few and fixed).
    public var deviceLabels: [String] = []
    /// Scored entries in `Metric.allCases` order, precomputed for the hot path.
    public let scored: [Entry]
    /// Entries by `Metric.ordinal` (an enum with a string raw value hashes its string).
    private let byOrdinal: [Entry?]
    /// Valid ranges by `Metric.ordinal` (nil: no entry), for validation on the hot path without
    /// copying entries (and retaining their strings).
    let validRanges: [ClosedRange<Double>?]

    public init(entries: [Entry], score: ScoreLimits) {
        self.entries = Dictionary(entries.map { ($0.metric, $0) }, uniquingKeysWith: { $1 })
        self.score = score
        let byMetric = self.entries
        self.byOrdinal = Metric.allCases.map { byMetric[$0] }
        self.validRanges = byOrdinal.map { $0?.validRange }
        self.scored = Metric.allCases.compactMap { metric in
            guard let entry = byMetric[metric], entry.nominal != nil, entry.scale != nil else { return nil }
            return entry
        }
    }

    public subscript(metric: Metric) -> Entry? { byOrdinal[metric.ordinal] }

    /// The resolved catalog of profile `name` (`default` is this one), nil when there is none.
    public func profile(named name: String) -> SensorCatalog? {
        name == Self.defaultProfile ? self : profiles[name]
    }

    /// Every profile name, `default` first, then alphabetical.
    public var profileNames: [String] { [Self.defaultProfile] + profiles.keys.sorted() }
}
