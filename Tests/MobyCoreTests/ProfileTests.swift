import Foundation
import MobyTestSupport
import Testing

@testable import MobyCore

/// Device profiles in the catalog: resolved over the default metrics, checked like them, and
/// judging readings by their own limits.
@Suite struct ProfileTests {
    static func catalog(profiles: String, labels: String = "[]") throws(CatalogError) -> SensorCatalog {
        let base = CatalogTests.document()
        let document = String(base.dropLast()) + #", "device_labels": \#(labels), "profiles": \#(profiles)}"#
        return try SensorCatalog(json: Array(document.utf8))
    }

    @Test func theRepositoryCatalogHasProfilesResolvedOverTheDefault() throws {
        let catalog = try SensorCatalog.load(path: TestPaths.catalog)
        #expect(catalog.profileNames == ["default", "cold_room", "press"])
        let cold = try #require(catalog.profile(named: "cold_room"))
        #expect(cold.profileName == "cold_room")
        #expect(cold[.temperature]?.nominal == 4 && cold[.temperature]?.critical.high == 12)
        // What the profile does not name is the default's.
        #expect(cold[.vibration] == catalog[.vibration])
        #expect(cold[.temperature]?.unit == catalog[.temperature]?.unit)
        #expect(catalog.profile(named: "default") == catalog)
        #expect(catalog.profile(named: "nowhere") == nil)
        #expect(catalog.deviceLabels == ["cell", "vendor"])
    }

    @Test func aColdRoomFlagsWhatTheDefaultAccepts() throws {
        let catalog = try SensorCatalog.load(path: TestPaths.catalog)
        let reading = Reading(deviceID: "room-1", timestamp: 0, values: [MetricValue(.temperature, 20)])
        #expect(AnomalyScorer(catalog: catalog).score(reading).severity == nil)
        let cold = AnomalyScorer(catalog: try #require(catalog.profile(named: "cold_room")))
        #expect(cold.score(reading).severity == .critical)  // past 12 °C
        let chilled = Reading(deviceID: "room-1", timestamp: 0, values: [MetricValue(.temperature, 5)])
        #expect(cold.score(chilled).severity == nil)
    }

    @Test func aProfileIsCheckedAndTheKeyAtFaultNamed() {
        let cases: [(String, String)] = [
            (#"{"cold": {"metrics": {"pressure": {"nominal": 1}}}}"#, "profiles.cold.metrics.pressure: unknown metric"),
            (#"{"cold": {"metrics": {"temperature": {"unit": "K"}}}}"#, "profiles.cold.metrics.temperature.unit"),
            (
                #"{"cold": {"metrics": {"temperature": {"warning": {"high": 9}, "critical": {"high": 8}}}}}"#,
                "profiles.cold.metrics.temperature: critical.high 8.0 is below warning.high 9.0"
            ),
            (#"{"cold": {"metrics": {"temperature": {"scale": 0}}}}"#, "profiles.cold.metrics.temperature.scale"),
            (#"{"cold": {"metrics": {"temperature": {"nominal": 500}}}}"#, "outside the valid range"),
            (#"{"cold": {"colour": 1}}"#, "profiles.cold.colour: unknown key"),
            (#"{"default": {"metrics": {}}}"#, "profiles.default: 'default'"),
            (#"{"cold room": {"metrics": {}}}"#, "profiles.cold room: a profile name"),
            (#"{"cold": {"score": {"warning": 6, "critical": 5}}}"#, "profiles.cold.score"),
        ]
        for (profiles, message) in cases {
            do {
                _ = try Self.catalog(profiles: profiles)
                Issue.record("accepted \(profiles)")
            } catch {
                #expect(error.description.contains(message), "\(profiles): \(error.description)")
            }
        }
        for (labels, message) in [
            (#"["location"]"#, "'location' is a tag of its own"), (#"["a b"]"#, "device_labels[0]"),
            (#"["cell", "cell"]"#, "listed twice"),
        ] {
            #expect(throws: CatalogError.self, "\(labels)") { try Self.catalog(profiles: "{}", labels: labels) }
            do { _ = try Self.catalog(profiles: "{}", labels: labels) } catch {
                #expect(error.description.contains(message), "\(labels): \(error.description)")
            }
        }
    }

    @Test func aSeverityGivenReplacesBothBoundsAndTheScoreCanBeOverridden() throws {
        let catalog = try Self.catalog(
            profiles:
                #"{"tight": {"score": {"warning": 1, "critical": 2}, "metrics": {"sound": {"warning": {"high": 50}}}}}"#
        )
        let tight = try #require(catalog.profile(named: "tight"))
        #expect(tight.score == .init(warning: 1, critical: 2))
        #expect(tight[.sound]?.warning == .init(low: nil, high: 50))
        #expect(tight[.sound]?.critical == catalog[.sound]?.critical)
    }

    @Test func locationAndLineAreReadAndChecked() {
        let decoder = ReadingDecoder(catalog: try! SensorCatalog.load(path: TestPaths.catalog))
        let good = decoder.decode(
            Array(#"{"device_id":"p1","temperature":20,"location":"plant-a","line":"line-2"}"#.utf8),
            topicDeviceID: nil, receivedAt: 1)
        #expect((try? good.get())?.location == "plant-a" && (try? good.get())?.line == "line-2")
        for (payload, field) in [
            (#"{"device_id":"p1","temperature":20,"location":"plant a"}"#, "location"),
            (#"{"device_id":"p1","temperature":20,"line":7}"#, "line"),
            (#"{"device_id":"p1","temperature":20,"location":"\#(String(repeating: "x", count: 65))"}"#, "location"),
        ] {
            guard case .failure(let rejection) = decoder.decode(Array(payload.utf8), topicDeviceID: nil, receivedAt: 1)
            else {
                Issue.record("accepted \(payload)")
                continue
            }
            #expect(rejection.errors.map(\.field) == [field])
        }
    }
}
