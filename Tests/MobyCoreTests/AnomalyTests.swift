import MobyTestSupport
import Testing

@testable import MobyCore

@Suite struct AnomalyScorerTests {
    let catalog: SensorCatalog
    let scorer: AnomalyScorer

    init() throws {
        catalog = try SensorCatalog.load(path: TestPaths.catalog)
        scorer = AnomalyScorer(catalog: catalog)
    }

    /// A reading at every scored metric's nominal value, with `changes` applied.
    func reading(_ changes: [Metric: Double] = [:]) -> Reading {
        let values = Metric.allCases.map { metric in
            MetricValue(metric, changes[metric] ?? catalog[metric]?.nominal ?? 1234)
        }
        return Reading(deviceID: "d1", timestamp: 0, values: values)
    }

    func z(_ metric: Metric, _ value: Double) throws -> Double {
        let entry = try #require(catalog[metric])
        return (value - entry.nominal!) / entry.scale!
    }

    @Test func nominalReadingScoresZero() {
        let (score, severity) = scorer.score(reading())
        #expect(score == 0)
        #expect(severity == nil)
    }

    @Test func scoreIsTheL2NormOfNormalizedDeviations() throws {
        let changes: [Metric: Double] = [.temperature: 31, .vibration: 3.5, .gyroX: -12]
        let expected = try (changes.map { try z($0.key, $0.value) }.map { $0 * $0 }.reduce(0, +)).squareRoot()
        let (score, _) = scorer.score(reading(changes))
        #expect(abs(score - expected) < 1e-12)
        // The counter does not count, whatever its value.
        #expect(scorer.score(reading([.cycleCount: 9e17])).score == 0)
    }

    @Test func scoreLimitsGiveSeverity() throws {
        // Deviations along one axis only, so the norm is |z|; stay within the metric's own limits.
        let scale = try #require(catalog[.gyroY]?.scale)
        let below = catalog.score.warning * 0.99 * scale
        #expect(scorer.score(reading([.gyroY: below])).severity == nil)
        // Two metrics each inside their limits whose norm passes warning.
        let both = (catalog.score.warning / 2.0.squareRoot()) * 1.01
        let sample = reading([.gyroX: both * scale, .gyroY: both * scale])
        #expect(scorer.score(sample).severity == .warning)
        #expect(sample[.gyroX]! < catalog[.gyroX]!.warning.high!)
    }

    @Test func oneMetricPastItsCriticalLimitIsCriticalEvenWithALowNorm() throws {
        let limit = try #require(catalog[.vibration]?.critical.high)
        let sample = reading([.vibration: limit + 0.1])
        let (score, severity) = scorer.score(sample)
        #expect(score < catalog.score.critical)
        #expect(severity == .critical)
        let assessment = scorer.assess(sample)
        #expect(assessment.deviations.first?.metric == .vibration)
        #expect(assessment.deviations.first?.breach == .init(severity: .critical, limit: limit))
        // A low limit counts too.
        let low = try #require(catalog[.accelZ]?.critical.low)
        #expect(scorer.score(reading([.accelZ: low - 0.5])).severity == .critical)
    }

    @Test func assessmentAgreesWithScoreAndOrdersByBreachThenDeviation() throws {
        let sample = reading([.humidity: 80, .gyroZ: -50, .temperature: 30])
        let fast = scorer.score(sample)
        let full = scorer.assess(sample)
        #expect(full.score == fast.score)
        #expect(full.severity == fast.severity)
        #expect(full.deviations.map(\.metric).prefix(3) == [.humidity, .gyroZ, .temperature])
        #expect(full.deviations[0].breach?.severity == .warning)
        #expect(full.deviations[1].breach == nil)
    }
}

@Suite struct AnomalyEpisodeTests {
    let rules = Hysteresis(raiseAfter: 3, clearAfter: 2)

    func run(_ severities: [Severity?], from start: AnomalyEpisode = AnomalyEpisode()) -> [AnomalyEpisode.Change?] {
        var episode = start
        return severities.map { episode.observe($0, rules: rules) }
    }

    @Test func raisesAfterNConsecutiveAnomalousReadings() {
        #expect(run([.warning, .warning, .warning, .warning]) == [nil, nil, .raised(.warning), .continued])
    }

    @Test func countsAnomalousReadingsInARow() {
        var episode = AnomalyEpisode()
        let severities: [Severity?] = [.warning, .critical, nil, .warning, .warning, .warning, .warning]
        let runs = severities.map { severity in
            _ = episode.observe(severity, rules: rules)
            return episode.anomalousRun
        }
        #expect(runs == [1, 2, 0, 1, 2, 3, 4])
    }

    @Test func isolatedSpikesNeverRaise() {
        #expect(run([.critical, nil, .critical, .critical, nil, .warning]).allSatisfy { $0 == nil })
    }

    @Test func raisesCriticalOnlyAfterNCriticalReadings() {
        #expect(run([.warning, .critical, .critical]) == [nil, nil, .raised(.warning)])
        #expect(run([.critical, .critical, .critical]) == [nil, nil, .raised(.critical)])
    }

    @Test func escalatesAfterNCriticalReadingsInTheOpenEpisode() {
        let changes = run([
            .warning, .warning, .warning, .critical, .critical, .warning, .critical, .critical, .critical,
        ])
        #expect(
            changes == [
                nil, nil, .raised(.warning), .continued, .continued, .continued, .continued, .continued, .escalated,
            ])
    }

    @Test func clearsAfterMNormalReadingsAndNotOnOne() {
        let changes = run([.warning, .warning, .warning, nil, .warning, nil, nil, nil])
        #expect(changes == [nil, nil, .raised(.warning), nil, .continued, nil, .cleared, nil])
    }

    @Test func aResumedEpisodeClearsWithoutBeingRaisedAgain() {
        let changes = run([nil, nil], from: AnomalyEpisode(severity: .critical))
        #expect(changes == [nil, .cleared])
    }
}
