/// The seed's `anomaly_vector_service`: a reading becomes the vector of normalized deviations
/// `z = (value - nominal) / scale` of its scored metrics, and its L2 norm is the anomaly score.
/// A reading's severity is the worse of the score's and any single metric's limit breach, so
/// one metric past its critical limit is critical even when the norm is low.
public struct AnomalyScorer: Sendable {
    public let catalog: SensorCatalog
    /// Catalog entries indexed by `Metric.ordinal`, nil where not scored.
    private let table: [SensorCatalog.Entry?]
    /// The numbers `score` needs, by `Metric.ordinal`: plain values, so the hot path copies no
    /// strings (an `Entry` holds its unit).
    private let scoring: [Scoring?]

    private struct Scoring {
        var nominal: Double
        var scale: Double
        var warning: SensorCatalog.Limits
        var critical: SensorCatalog.Limits
    }

    public init(catalog: SensorCatalog) {
        self.catalog = catalog
        var table = [SensorCatalog.Entry?](repeating: nil, count: Metric.allCases.count)
        for entry in catalog.scored { table[entry.metric.ordinal] = entry }
        self.table = table
        scoring = table.map { entry in
            guard let entry, let nominal = entry.nominal, let scale = entry.scale else { return nil }
            return Scoring(nominal: nominal, scale: scale, warning: entry.warning, critical: entry.critical)
        }
    }

    /// Score and severity only; no allocation (the per-reading hot path).
    public func score(_ reading: Reading) -> (score: Double, severity: Severity?) {
        var sum = 0.0
        var severity: Severity?
        for value in reading.values {
            guard let entry = scoring[value.metric.ordinal] else { continue }
            let z = (value.value - entry.nominal) / entry.scale
            sum += z * z
            if severity != .critical {
                if entry.critical.breached(by: value.value) != nil {
                    severity = .critical
                } else if severity == nil, entry.warning.breached(by: value.value) != nil {
                    severity = .warning
                }
            }
        }
        let score = sum.squareRoot()
        return (score, severity.worse(scoreSeverity(score)))
    }

    /// The full assessment: score, severity and every scored metric's deviation, largest first.
    public func assess(_ reading: Reading) -> AnomalyAssessment {
        let (score, severity) = score(reading)
        var deviations: [Deviation] = []
        for value in reading.values {
            guard let entry = table[value.metric.ordinal], let nominal = entry.nominal, let scale = entry.scale
            else { continue }
            var deviation = Deviation(metric: value.metric, value: value.value, z: (value.value - nominal) / scale)
            if let limit = entry.critical.breached(by: value.value) {
                deviation.breach = .init(severity: .critical, limit: limit)
            } else if let limit = entry.warning.breached(by: value.value) {
                deviation.breach = .init(severity: .warning, limit: limit)
            }
            deviations.append(deviation)
        }
        deviations.sort { ($0.rank, abs($0.z)) > ($1.rank, abs($1.z)) }
        return AnomalyAssessment(score: score, severity: severity, deviations: deviations)
    }

    /// The severity the score alone reaches.
    public func scoreSeverity(_ score: Double) -> Severity? {
        if score >= catalog.score.critical { return .critical }
        if score >= catalog.score.warning { return .warning }
        return nil
    }
}

/// One reading judged: its anomaly score, severity (nil = normal) and per-metric deviations.
public struct AnomalyAssessment: Sendable, Equatable {
    public var score: Double
    public var severity: Severity?
    /// Breaching metrics first (critical before warning), then by |z|, largest first.
    public var deviations: [Deviation]

    public init(score: Double, severity: Severity?, deviations: [Deviation]) {
        self.score = score
        self.severity = severity
        self.deviations = deviations
    }
}

/// How far one metric is from its nominal value, and which limit it is past, if any.
public struct Deviation: Sendable, Equatable {
    public struct Breach: Sendable, Equatable {
        public var severity: Severity
        public var limit: Double
    }

    public var metric: Metric
    public var value: Double
    /// Normalized deviation `(value - nominal) / scale`.
    public var z: Double
    public var breach: Breach?

    /// 2 past critical, 1 past warning, 0 within limits.
    var rank: Int { breach.map { $0.severity == .critical ? 2 : 1 } ?? 0 }

    public init(metric: Metric, value: Double, z: Double, breach: Breach? = nil) {
        self.metric = metric
        self.value = value
        self.z = z
        self.breach = breach
    }
}
