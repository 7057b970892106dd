import Foundation
import MobyTestSupport
import Testing

@testable import MobyCore

@Suite struct CatalogTests {
    @Test func repositoryCatalogListsEverySeedMetric() throws {
        let catalog = try SensorCatalog.load(path: TestPaths.catalog)
        for metric in Metric.allCases {
            let entry = try #require(catalog[metric], "\(metric) missing")
            #expect(!entry.unit.isEmpty)
            if let nominal = entry.nominal {
                #expect(entry.validRange.contains(nominal))
                for limit in [entry.warning.high, entry.critical.high, entry.warning.low, entry.critical.low] {
                    if let limit { #expect(entry.validRange.contains(limit)) }
                }
            }
        }
        // Every sensor metric is scored; the counter is not.
        #expect(catalog.scored.map(\.metric) == Metric.allCases.filter { $0 != .cycleCount })
        #expect(catalog[.vibration]?.warning.high == 7.1)
        #expect(catalog.score.warning < catalog.score.critical)
    }

    /// A catalog document with one metric's entry replaced.
    static func document(
        score: String = #"{"warning": 3, "critical": 5}"#, replacing metric: String? = nil, with entry: String = ""
    )
        -> String
    {
        let entries = Metric.allCases.map { item in
            if item.name == metric { return "\"\(item.name)\": \(entry)" }
            return #""\#(item.name)": {"unit": "u", "valid": [-100, 100], "nominal": 0, "scale": 1}"#
        }
        return #"{"score": \#(score), "metrics": {\#(entries.joined(separator: ", "))}}"#
    }

    static let invalid: [(document: String, message: String)] = [
        ("{", "invalid JSON"),
        (#"{"metrics": {}}"#, "score: missing"),
        (document(score: #"{"warning": 5, "critical": 3}"#), "score: need 0 < warning < critical"),
        (
            document(replacing: "sound", with: #"{"unit": "dB", "valid": [0, 200], "nominal": 65, "scale": 0}"#),
            "metrics.sound.scale: must be greater than 0"
        ),
        (
            document(replacing: "sound", with: #"{"unit": "dB", "valid": [0, 200], "nominal": 65}"#),
            "metrics.sound: give both nominal and scale"
        ),
        (document(replacing: "sound", with: #"{"unit": "dB", "valid": [200, 0]}"#), "metrics.sound.valid"),
        (
            document(replacing: "sound", with: #"{"unit": "dB", "valid": [0, 200], "colour": "red"}"#),
            "metrics.sound.colour: unknown key"
        ),
        (
            document(
                replacing: "sound",
                with: #"{"unit": "dB", "valid": [0, 200], "warning": {"high": 90}, "critical": {"high": 80}}"#),
            "critical.high 80.0 is below warning.high 90.0"
        ),
        (
            document(replacing: "sound", with: #"{"unit": "dB", "valid": [0, 200], "critical": {"high": 300}}"#),
            "metrics.sound.critical.high: 300.0 is outside the valid range"
        ),
        (
            document(replacing: "sound", with: #"{"unit": 3, "valid": [0, 200]}"#),
            "metrics.sound.unit: expected a string"
        ),
        (
            document().replacingOccurrences(
                of: #""gyro_z": {"unit": "u", "valid": [-100, 100], "nominal": 0, "scale": 1}, "#, with: ""),
            "metrics: missing gyro_z"
        ),
        (document().replacingOccurrences(of: #""sound""#, with: #""noise""#), "metrics.noise: unknown metric"),
    ]

    @Test(arguments: invalid) func badCatalogFailsWithTheReason(document: String, message: String) {
        #expect(throws: CatalogError.self) { try SensorCatalog(json: Array(document.utf8)) }
        do {
            _ = try SensorCatalog(json: Array(document.utf8))
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test func generatedDocumentIsValid() throws {
        let catalog = try SensorCatalog(json: Array(Self.document().utf8))
        #expect(catalog.entries.count == Metric.allCases.count)
    }

    @Test func missingFileNamesThePath() {
        do {
            _ = try SensorCatalog.load(path: "/nonexistent/sensors.json")
            Issue.record("loaded a file that does not exist")
        } catch {
            #expect(error.description.contains("/nonexistent/sensors.json"))
        }
    }
}
