/// An operator action that the alert's status does not allow (HTTP 409).
public struct LifecycleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

extension Alert {
    /// Opens an alert for an episode that just started, after `readings` anomalous readings in a
    /// row (the hysteresis' raise-after count); `assessment` is the last of them.
    public init(
        deviceID: String, severity: Severity, assessment: AnomalyAssessment, catalog: SensorCatalog, at time: Int64,
        readings: Int = 1
    ) {
        self.init(
            deviceID: deviceID, severity: severity, score: assessment.score, peakScore: assessment.score,
            contributors: Self.contributors(assessment, catalog: catalog), readingCount: max(1, readings),
            raisedAt: time,
            lastSeenAt: time, updatedAt: time)
        profile = catalog.profileName
        summary = AlertSummary.text(for: self, catalog: catalog)
    }

    /// Folds one more anomalous reading of the same episode into the alert.
    public mutating func absorb(_ assessment: AnomalyAssessment, catalog: SensorCatalog, at time: Int64) {
        score = assessment.score
        peakScore = max(peakScore, assessment.score)
        contributors = Self.contributors(assessment, catalog: catalog)
        readingCount += 1
        lastSeenAt = max(lastSeenAt, time)
        clearedAt = nil
        updatedAt = time
        profile = catalog.profileName
        summary = AlertSummary.text(for: self, catalog: catalog)
    }

    /// `pending → acknowledged`.
    public mutating func acknowledge(by actor: String, at time: Int64) throws(LifecycleError) {
        guard status == .pending else {
            throw LifecycleError("alert \(id) is \(status.rawValue); only a pending alert can be acknowledged")
        }
        status = .acknowledged
        acknowledgedAt = time
        acknowledgedBy = actor
        updatedAt = time
    }

    /// `pending|acknowledged → resolved`; nothing leaves resolved.
    public mutating func resolve(by actor: String, at time: Int64) throws(LifecycleError) {
        guard status != .resolved else {
            throw LifecycleError("alert \(id) is already resolved; a resolved alert cannot change")
        }
        status = .resolved
        resolvedAt = time
        resolvedBy = actor
        updatedAt = time
    }

    /// The metrics that explain an assessment: every breach, then the largest deviations
    /// (|z| ≥ 1), at most five, at least one.
    static func contributors(_ assessment: AnomalyAssessment, catalog: SensorCatalog) -> [Contributor] {
        let notable = assessment.deviations.enumerated().filter { index, deviation in
            index == 0 || deviation.breach != nil || abs(deviation.z) >= 1
        }
        return notable.prefix(5).map { _, deviation in
            let entry = catalog[deviation.metric]
            return Contributor(
                metric: deviation.metric.name, value: deviation.value, unit: entry?.unit ?? "",
                nominal: entry?.nominal, z: deviation.z, limit: deviation.breach?.limit,
                severity: deviation.breach?.severity)
        }
    }
}
