import MobyTestSupport
import Testing

@testable import MobyCore

@Suite struct AlertTests {
    let catalog: SensorCatalog

    init() throws {
        catalog = try SensorCatalog.load(path: TestPaths.catalog)
    }

    /// 2026-01-02T03:04:05Z
    static let raisedAt: Int64 = 1_767_323_045_000_000_000

    func alert(temperature: Double = 70, vibration: Double = 8) -> Alert {
        let reading = Reading(
            deviceID: "press-7", timestamp: Self.raisedAt,
            values: [MetricValue(.temperature, temperature), MetricValue(.vibration, vibration)])
        let assessment = AnomalyScorer(catalog: catalog).assess(reading)
        return Alert(
            deviceID: "press-7", severity: .critical, assessment: assessment, catalog: catalog, at: Self.raisedAt)
    }

    @Test func lifecycleAllowsOnlyForwardTransitions() throws {
        var alert = alert()
        #expect(alert.status == .pending)
        try alert.acknowledge(by: "alice", at: 10)
        #expect(alert.status == .acknowledged && alert.acknowledgedBy == "alice" && alert.acknowledgedAt == 10)
        #expect(throws: LifecycleError.self) { try alert.acknowledge(by: "bob", at: 11) }
        try alert.resolve(by: "bob", at: 12)
        #expect(alert.status == .resolved && alert.resolvedBy == "bob" && alert.resolvedAt == 12)
        #expect(throws: LifecycleError.self) { try alert.resolve(by: "carol", at: 13) }
        #expect(throws: LifecycleError.self) { try alert.acknowledge(by: "carol", at: 13) }
        #expect(alert.resolvedBy == "bob")

        var direct = self.alert()
        try direct.resolve(by: "dave", at: 5)
        #expect(direct.status == .resolved && direct.acknowledgedAt == nil)
    }

    @Test func absorbKeepsThePeakAndCountsReadings() {
        var alert = alert(temperature: 90)
        let first = alert.score
        let calmer = AnomalyScorer(catalog: catalog).assess(
            Reading(
                deviceID: "press-7", timestamp: Self.raisedAt + 1_000_000_000, values: [MetricValue(.temperature, 65)]))
        alert.absorb(calmer, catalog: catalog, at: Self.raisedAt + 1_000_000_000)
        #expect(alert.readingCount == 2)
        #expect(alert.score == calmer.score)
        #expect(alert.peakScore == first)
        #expect(alert.lastSeenAt == Self.raisedAt + 1_000_000_000)
        #expect(alert.contributors.first?.value == 65)
    }

    @Test func summaryNamesMetricsHowFarOffAndSince() {
        let text = alert().summary
        #expect(text.hasPrefix("Critical anomaly on press-7 since 2026-01-02T03:04:05Z: "))
        #expect(text.contains("temperature 70 °C (45 °C above nominal 25, past the critical limit 60)"))
        #expect(text.contains("vibration 8 mm/s (6 mm/s above nominal 2, past the warning limit 7.1)"))
        #expect(text.contains("over 1 reading."))
        #expect(AlertSummary.text(for: alert(), catalog: catalog) == text)
    }
}
