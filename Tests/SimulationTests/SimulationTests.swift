import Foundation
import MobyCore
import MobyTestSupport
import Testing

@testable import Simulation

/// The simulated signals against the real sensor catalog and anomaly engine: healthy devices
/// stay quiet, every injected anomaly except `stuck` and `dropout` raises an episode.
@Suite struct SimulationTests {
    let catalog: SensorCatalog
    let scorer: AnomalyScorer
    static let start: Int64 = 1_767_225_600_000_000_000  // 2026-01-01T00:00:00Z

    init() throws {
        catalog = try SensorCatalog.load(path: TestPaths.catalog)
        scorer = AnomalyScorer(catalog: catalog)
    }

    /// `seconds` readings at 1 Hz: the samples (nil for silence) and the episode changes.
    func run(_ device: inout SimulatedDevice, seconds: Int) -> (
        samples: [SensorSample?], changes: [AnomalyEpisode.Change]
    ) {
        var episode = AnomalyEpisode()
        var samples: [SensorSample?] = []
        var changes: [AnomalyEpisode.Change] = []
        for second in 0..<seconds {
            let timestamp = Self.start + Int64(second) * 1_000_000_000
            let sample = device.sample(at: timestamp, elapsed: .seconds(second))
            samples.append(sample)
            guard let sample else { continue }
            let severity = scorer.score(sample.reading(deviceID: device.deviceID, timestamp: timestamp)).severity
            if let change = episode.observe(severity, rules: Hysteresis()) { changes.append(change) }
        }
        return (samples, changes)
    }

    @Test func healthyDevicesStayInRangeAndRaiseNothingForAnHour() throws {
        for seed in 1...5 {
            var device = SimulatedDevice(deviceID: "d\(seed)", seed: UInt64(seed))
            let (samples, changes) = run(&device, seconds: 3600)
            #expect(changes.isEmpty, "seed \(seed): \(changes)")
            var lastCount: Int64 = 0
            var running = 0
            for sample in samples.compactMap({ $0 }) {
                let reading = sample.reading(deviceID: "d", timestamp: 0)
                for value in reading.values {
                    #expect(try #require(catalog[value.metric]).validRange.contains(value.value))
                }
                #expect(sample.cycleCount >= lastCount)
                if sample.cycleCount > lastCount { running += 1 }
                lastCount = sample.cycleCount
            }
            // The machine both runs and idles within an hour.
            #expect(running > 600 && running < 3500, "seed \(seed): running \(running) of 3600 s")
        }
    }

    @Test func sameSeedSameSignals() {
        var a = SimulatedDevice(deviceID: "d", seed: 42)
        var b = SimulatedDevice(deviceID: "d", seed: 42)
        var c = SimulatedDevice(deviceID: "d", seed: 43)
        let first = run(&a, seconds: 100).samples
        #expect(first == run(&b, seconds: 100).samples)
        #expect(first != run(&c, seconds: 100).samples)
    }

    @Test(arguments: [AnomalyInjection.Kind.spike, .drift, .noise])
    func injectedAnomalyIsOneEpisode(kind: AnomalyInjection.Kind) {
        var device = SimulatedDevice(
            deviceID: "d", seed: 7,
            injections: [AnomalyInjection(kind: kind, deviceID: "d", start: .seconds(60), duration: .seconds(40))])
        let changes = run(&device, seconds: 300).changes
        let raised = changes.filter { if case .raised = $0 { true } else { false } }
        #expect(raised.count == 1, "\(kind): \(changes)")
        #expect(changes.filter { $0 == .cleared }.count == 1, "\(kind): \(changes)")
        #expect(changes.contains(.raised(.critical)) || changes.contains(.escalated), "\(kind): \(changes)")
    }

    @Test func stuckFreezesAndDropoutSilences() {
        var stuck = SimulatedDevice(
            deviceID: "d", seed: 3, injections: [AnomalyInjection(kind: .stuck, deviceID: "d", start: .seconds(10))])
        let samples = run(&stuck, seconds: 60).samples
        #expect(Set(samples[10..<40].map { $0?.temperature }).count == 1)
        #expect(samples[40] != samples[39])
        var silent = SimulatedDevice(
            deviceID: "d", seed: 3, injections: [AnomalyInjection(kind: .dropout, deviceID: "d", start: .seconds(5))])
        let gaps = run(&silent, seconds: 60).samples
        #expect(gaps[5..<35].allSatisfy { $0 == nil })
        #expect(gaps[0..<5].allSatisfy { $0 != nil } && gaps[35...].allSatisfy { $0 != nil })
    }

    @Test func numbersAreWrittenRoundedToThreeDecimals() {
        func text(_ value: Double) -> String {
            var out: [UInt8] = []
            SensorSample.writeMillis(value, into: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(text(25.347) == "25.347" && text(25.3) == "25.3" && text(7) == "7" && text(-0.0204) == "-0.02")
        #expect(text(0.0004) == "0" && text(-0.0004) == "0" && text(9.81) == "9.81" && text(0.001) == "0.001")
        func integer(_ value: Int64) -> String {
            var out: [UInt8] = []
            SensorSample.writeInteger(value, into: &out)
            return String(decoding: out, as: UTF8.self)
        }
        for value: Int64 in [0, 9, 10, 99, 100, 1_000_007, -1, -10, .max, .min, .max / 10, 1_000_000_000_000_000_000] {
            #expect(integer(value) == String(value))
        }
        var generator = SplitMix64(seed: 42)
        for _ in 0..<10_000 {
            let value = (Double(generator.next() % 2_000_000_000) - 1e9) / 99_991
            #expect(Double(text(value)) == (value * 1000).rounded() / 1000, "\(value) -> \(text(value))")
        }
    }

    @Test func locationAndLineGoWithEveryReading() throws {
        var device = SimulatedDevice(deviceID: "press-7", seed: 3)
        device.location = "plant-a"
        device.line = "line-2"
        let made = device.readingBytes(at: 1_764_000_000_123_000_000)
        let bytes = try #require(made)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["location"] as? String == "plant-a" && object["line"] as? String == "line-2")
        let decoder = ReadingDecoder(catalog: try SensorCatalog.load(path: TestPaths.catalog))
        let decoded = try decoder.decode(bytes, topicDeviceID: "press-7", receivedAt: 0).get()
        #expect(decoded.location == "plant-a" && decoded.line == "line-2")
    }

    @Test func theMessageIsTheSeedsJSON() throws {
        var device = SimulatedDevice(deviceID: "press-7", seed: 3)
        let made = device.readingBytes(at: 1_764_000_000_123_000_000)
        let bytes = try #require(made)
        let parsed = try JSONSerialization.jsonObject(with: Data(bytes))
        let object = try #require(parsed as? [String: Any])
        #expect(object["device_id"] as? String == "press-7")
        #expect(object["timestamp"] as? String == "2025-11-24T16:00:00.123Z")
        #expect((object["accel"] as? [String: Any])?.keys.sorted() == ["x", "y", "z"])
        #expect(
            Set(object.keys) == [
                "device_id", "temperature", "humidity", "vibration", "sound", "accel", "gyro", "cycle_count",
                "timestamp",
            ])
        let decoder = ReadingDecoder(catalog: try SensorCatalog.load(path: TestPaths.catalog))
        let decoded = try decoder.decode(bytes, topicDeviceID: "press-7", receivedAt: 0).get()
        #expect(decoded.values.count == 11 && decoded.timestamp == 1_764_000_000_123_000_000)
    }

    @Test func injectionSyntax() throws {
        let drift = try AnomalyInjection(parsing: "drift:sensor_003@60s")
        #expect(drift == AnomalyInjection(kind: .drift, deviceID: "sensor_003", start: .seconds(60)))
        let spike = try AnomalyInjection(parsing: "spike:a:b@1.5m+500ms")
        #expect(
            spike == AnomalyInjection(kind: .spike, deviceID: "a:b", start: .seconds(90), duration: .milliseconds(500)))
        for bad in ["drift", "melt:s1@10s", "drift:@10s", "drift:s1@soon", "drift:s1@10s+0s", "drift:s1@1s+2s+3s"] {
            #expect(throws: InjectionSyntaxError.self, "\(bad)") { try AnomalyInjection(parsing: bad) }
        }
    }
}
