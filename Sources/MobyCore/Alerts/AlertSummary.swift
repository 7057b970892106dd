/// The deterministic human summary every alert carries: which metrics, how far off, since when.
/// The same alert always gives the same text, so tests and operators can rely on it; an LLM may
/// rewrite it, but this is what is shown when none is configured or it fails.
public enum AlertSummary {
    public static func text(for alert: Alert, catalog: SensorCatalog) -> String {
        let metrics = alert.contributors.prefix(3).map(describe).joined(separator: "; ")
        let limits = catalog.score
        let profile = alert.profile == SensorCatalog.defaultProfile ? "" : " (profile \(alert.profile))"
        return "\(alert.severity.rawValue.capitalized) anomaly on \(alert.deviceID)\(profile) since "
            + "\(RFC3339.format(alert.raisedAt / 1_000_000_000 * 1_000_000_000)): \(metrics). "
            + "Anomaly score \(format(alert.score)) (warning ≥ \(format(limits.warning)), critical ≥ "
            + "\(format(limits.critical))), peak \(format(alert.peakScore)) over \(alert.readingCount) "
            + "reading\(alert.readingCount == 1 ? "" : "s")."
    }

    static func describe(_ contributor: Contributor) -> String {
        let unit = contributor.unit.isEmpty ? "" : " \(contributor.unit)"
        var text = "\(contributor.metric) \(format(contributor.value))\(unit)"
        if let nominal = contributor.nominal {
            let offset = contributor.value - nominal
            text += " (\(format(abs(offset)))\(unit) \(offset >= 0 ? "above" : "below") nominal \(format(nominal))"
            if let limit = contributor.limit, let severity = contributor.severity {
                text += ", past the \(severity.rawValue) limit \(format(limit))"
            }
            text += ")"
        }
        return text
    }

    /// At most one decimal for readability; integers without a fraction.
    static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return String(rounded)
    }
}
