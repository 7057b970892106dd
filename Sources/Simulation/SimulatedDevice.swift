import Foundation
import MobyCore

/// A simulated machine's sensors. The machine alternates between running and idle (minutes
/// each); temperature follows a daily cycle plus the machine's own heat (a slow first-order
/// lag), humidity moves against temperature, vibration and sound follow the running state with
/// occasional bursts, accel and gyro shake with it, and the cycle counter counts while running.
/// Deterministic for a seed; healthy values stay well inside the catalog's limits.
public struct SimulatedDevice: Sendable {
    public let deviceID: String
    /// The site and production line sent with every reading (seed §2.4's `location` tag).
    public var location: String?
    public var line: String?
    /// Injected anomalies for this device, by start time.
    public var injections: [AnomalyInjection] = []
    private var generator: SplitMix64
    private var cycles: Int64 = 0
    private var phase: Double
    private var running = true
    private var heat = 0.0
    private var frozen: SensorSample?

    public init(deviceID: String, seed: UInt64, injections: [AnomalyInjection] = []) {
        self.deviceID = deviceID
        self.injections = injections
        self.generator = SplitMix64(seed: seed)
        self.phase = Double(seed % 1000) / 1000 * 2 * .pi
    }

    /// The reading at `timestamp` (ns since the epoch), `elapsed` into the run; nil while an
    /// injected dropout keeps the device silent.
    public mutating func sample(at timestamp: Int64, elapsed: Duration) -> SensorSample? {
        var sample = healthy(at: timestamp)
        guard let injection = injections.first(where: { $0.isActive(at: elapsed) }) else {
            frozen = nil
            return sample
        }
        let progress = injection.progress(at: elapsed)
        switch injection.kind {
        case .spike:
            sample.temperature += 45
            sample.vibration += 10
        case .drift:
            sample.temperature += 50 * progress
            sample.vibration += 9 * progress
        case .stuck:
            if frozen == nil { frozen = sample }
            sample = frozen ?? sample
        case .noise:
            sample.vibration += abs(generator.gaussian()) * 8
            sample.sound += abs(generator.gaussian()) * 15
            sample.accel += SIMD3(generator.gaussian(), generator.gaussian(), generator.gaussian()) * 6
            sample.gyro += SIMD3(generator.gaussian(), generator.gaussian(), generator.gaussian()) * 60
        case .dropout:
            return nil
        }
        return sample
    }

    /// The seed-format JSON of `sample(at:elapsed:)`.
    public mutating func reading(at timestamp: Int64, elapsed: Duration = .zero) -> String? {
        sample(at: timestamp, elapsed: elapsed)?.json(
            deviceID: deviceID, timestamp: timestamp, location: location, line: line)
    }

    /// `reading(at:elapsed:)` as UTF-8 bytes.
    public mutating func readingBytes(at timestamp: Int64, elapsed: Duration = .zero) -> [UInt8]? {
        sample(at: timestamp, elapsed: elapsed)?.jsonBytes(
            deviceID: deviceID, timestamp: timestamp, location: location, line: line)
    }

    private mutating func healthy(at timestamp: Int64) -> SensorSample {
        // Running spells last ~5 minutes at 1 Hz, idle ones ~1.5 minutes.
        if generator.unit() < (running ? 1.0 / 300 : 1.0 / 90) { running.toggle() }
        if running { cycles += 1 }
        heat += ((running ? 6 : 0) - heat) * 0.01
        let hours = Double(timestamp / 1_000_000_000) / 3600
        let daily = sin(hours / 24 * 2 * .pi + phase)
        let temperature = 22 + 3 * daily + heat + generator.gaussian() * 0.2
        let humidity = min(95, max(5, 50 - 8 * daily - 0.5 * heat + generator.gaussian() * 0.8))
        let burst = running && generator.unit() < 0.01
        let vibration =
            running
            ? max(0.05, 2.2 + generator.gaussian() * 0.3 + (burst ? 1.5 : 0)) : 0.3 + abs(generator.gaussian()) * 0.05
        let sound = (running ? 72 + (burst ? 6 : 0) : 50) + generator.gaussian() * 2
        let shake = running ? 0.3 : 0.02
        let accel = SIMD3(
            generator.gaussian() * shake, generator.gaussian() * shake, 9.81 + generator.gaussian() * shake)
        let gyro = SIMD3(generator.gaussian(), generator.gaussian(), generator.gaussian()) * (running ? 3 : 0.2)
        return SensorSample(
            temperature: temperature, humidity: humidity, vibration: vibration, sound: sound, accel: accel, gyro: gyro,
            cycleCount: cycles)
    }
}
