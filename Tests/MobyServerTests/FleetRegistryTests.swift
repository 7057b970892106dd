import MobyCore
import MobyTestSupport
import Testing

@testable import MobyServer

/// The fleet's registry in memory: new devices get the default profile, a reading's location
/// moves its device, a profile change judges the next reading, tag values are limited.
@Suite struct FleetRegistryTests {
    static func fleet(maxTagValues: Int = 1_000) throws -> FleetState {
        FleetState(
            rules: Hysteresis(raiseAfter: 1, clearAfter: 1), catalog: try SensorCatalog.load(path: TestPaths.catalog),
            maxTagValues: maxTagValues)
    }

    static func reading(_ device: String, _ temperature: Double, location: String? = nil, line: String? = nil)
        -> FleetState.Observation
    {
        .init(
            reading: Reading(
                deviceID: device, timestamp: 1, values: [MetricValue(.temperature, temperature)], location: location,
                line: line))
    }

    @Test func readingsAreScoredByTheirDevicesProfileAndCarryItsTags() throws {
        let fleet = try Self.fleet()
        var outcome = fleet.observe([Self.reading("room-1", 20, location: "plant-a")], receivedAt: 10)
        #expect(outcome.registered.map(\.id) == ["room-1"])
        #expect(outcome.taken.first?.severity == nil)
        #expect(String(decoding: outcome.taken.first?.tags ?? [], as: UTF8.self) == ",location=plant-a,profile=default")

        let change = DeviceMetaChange(
            name: "Cold room 1", location: "plant-a", line: "line-2", profile: "cold_room", labels: ["cell": "c3"])
        _ = try fleet.change("room-1", to: change, allowedLabels: ["cell"], at: 11)
        outcome = fleet.observe([Self.reading("room-1", 20)], receivedAt: 12)
        #expect(outcome.registered.isEmpty)
        #expect(outcome.taken.first?.severity == .critical)
        #expect(fleet.profiles[outcome.taken.first?.profileIndex ?? 0].profileName == "cold_room")
        #expect(
            String(decoding: outcome.taken.first?.tags ?? [], as: UTF8.self)
                == ",cell=c3,line=line-2,location=plant-a,profile=cold_room")
        #expect(outcome.changes.first?.severity == .critical)
        outcome = fleet.observe([Self.reading("room-1", 5)], receivedAt: 13)
        #expect(outcome.taken.first?.severity == nil)

        // A reading naming another place moves the device (and is stored for the registry).
        outcome = fleet.observe([Self.reading("room-1", 5, location: "plant-b")], receivedAt: 14)
        #expect(outcome.registered.first?.meta.location == "plant-b")
        #expect(outcome.registered.first?.meta.profile == "cold_room")  // the rest stays
        #expect(fleet.device("room-1")?.meta.name == "Cold room 1")
    }

    @Test func changesAreCheckedAgainstTheCatalog() throws {
        let fleet = try Self.fleet()
        let change = DeviceMetaChange(profile: "nowhere", labels: [:])
        #expect(throws: FleetState.ChangeRefusal.unknownProfile("nowhere")) {
            try fleet.change("p", to: change, allowedLabels: [], at: 1)
        }
        #expect(throws: FleetState.ChangeRefusal.unknownLabel("colour")) {
            try fleet.change(
                "p", to: .init(profile: "default", labels: ["colour": "red"]), allowedLabels: ["cell"], at: 1)
        }
        #expect(fleet.device("p") == nil)
    }

    @Test func newTagValuesBeyondTheLimitAreRefusedOldOnesStillTaken() throws {
        let fleet = try Self.fleet(maxTagValues: 2)
        let first = fleet.observe(
            [Self.reading("a", 20, location: "s1"), Self.reading("b", 20, location: "s2")], receivedAt: 1)
        #expect(first.refused.isEmpty)
        let third = fleet.observe(
            [Self.reading("c", 20, location: "s3"), Self.reading("d", 20, location: "s1")], receivedAt: 2)
        #expect(third.refused.map(\.refusal) == [.tagLimit(key: "location", limit: 2)])
        #expect(third.taken.map(\.reading.deviceID) == ["d"])
        #expect(fleet.device("c") == nil)  // not registered either
        #expect(
            fleet.admits(Reading(deviceID: "e", timestamp: 1, values: [], location: "s4"))
                == .tagLimit(key: "location", limit: 2))
        #expect(fleet.admits(Reading(deviceID: "e", timestamp: 1, values: [], location: "s2")) == nil)
        // Moving b away frees s2's count but not the value's place until no device has it.
        _ = fleet.observe([Self.reading("b", 20, location: "s1")], receivedAt: 3)
        #expect(fleet.admits(Reading(deviceID: "e", timestamp: 1, values: [], location: "s4")) == nil)
        #expect(throws: FleetState.ChangeRefusal.tagLimit(key: "line", limit: 2)) {
            _ = try fleet.change("a", to: .init(line: "l1", profile: "default", labels: [:]), allowedLabels: [], at: 4)
            _ = try fleet.change("b", to: .init(line: "l2", profile: "default", labels: [:]), allowedLabels: [], at: 4)
            _ = try fleet.change("d", to: .init(line: "l3", profile: "default", labels: [:]), allowedLabels: [], at: 4)
        }
    }

    /// A reading at `second` (whole seconds, as the seed's sensors write them), stamped as ingest
    /// stamps it.
    static func stamped(_ second: Int64, _ temperature: Double, redelivered: Bool = false) -> FleetState.Observation {
        var reading = Reading(
            deviceID: "oven-1", timestamp: second * 1_000_000_000, values: [MetricValue(.temperature, temperature)],
            timestampInWholeSeconds: true)
        let stamp = ReadingStamp.disambiguate(&reading, receivedAt: 0, position: 0)
        return .init(reading: reading, stamp: stamp, redelivered: redelivered)
    }

    @Test func aReadingSeenAgainIsStoredButCountedOnce() throws {
        let fleet = FleetState(
            rules: Hysteresis(raiseAfter: 2, clearAfter: 1), catalog: try SensorCatalog.load(path: TestPaths.catalog))
        func changes(_ observation: FleetState.Observation) -> [AnomalyEpisode.Change] {
            let outcome = fleet.observe([observation], receivedAt: 1)
            #expect(outcome.taken.count == 1, "stored in any case")
            return outcome.changes.map(\.change)
        }
        #expect(changes(Self.stamped(1, 95)).isEmpty)
        // The same reading again (an agent resending it after a restart): one anomalous reading.
        #expect(changes(Self.stamped(1, 95)).isEmpty)
        // A redelivered message newer than the latest was never seen: it counts.
        #expect(changes(Self.stamped(5, 95, redelivered: true)).count == 1)
        // A redelivered run older than the latest (after a reconnect) clears nothing again.
        #expect(changes(Self.stamped(4, 20, redelivered: true)).isEmpty)
        // A sensor whose clock stepped back is still heard.
        #expect(changes(Self.stamped(2, 20)) == [.cleared])
    }
}
