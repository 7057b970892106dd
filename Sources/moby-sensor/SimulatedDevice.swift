import Foundation
import MobyCore

/// A simulated machine's sensors: slow daily temperature/humidity cycle with noise, vibration
/// and sound that follow the machine's running state, and a cycle counter.
struct SimulatedDevice {
    let deviceID: String
    private var generator: SplitMix64
    private var cycles: Int64 = 0
    private var phase: Double

    init(deviceID: String, seed: UInt64) {
        self.deviceID = deviceID
        self.generator = SplitMix64(seed: seed)
        self.phase = Double(seed % 1000) / 1000 * 2 * .pi
    }

    /// The seed-format JSON for a reading at `timestamp` (ns since the epoch).
    mutating func reading(at timestamp: Int64) -> String {
        let hours = Double(timestamp / 1_000_000_000) / 3600
        let daily = sin(hours / 24 * 2 * .pi + phase)
        let running = generator.unit() > 0.1
        if running { cycles += 1 }
        let temperature = 24 + 3 * daily + generator.gaussian() * 0.2
        let humidity = min(100, max(0, 55 - 8 * daily + generator.gaussian() * 0.8))
        let vibration = running ? 0.12 + abs(generator.gaussian()) * 0.02 : 0.01
        let sound = running ? 62 + generator.gaussian() * 1.5 : 38 + generator.gaussian()
        return """
            {"device_id":"\(deviceID)","temperature":\(round3(temperature)),"humidity":\(round3(humidity)),\
            "vibration":\(round3(vibration)),"sound":\(round3(sound)),\
            "accel":{"x":\(round3(generator.gaussian() * 0.05)),"y":\(round3(generator.gaussian() * 0.05)),"z":\(round3(9.81 + generator.gaussian() * 0.05))},\
            "gyro":{"x":\(round3(generator.gaussian() * 0.5)),"y":\(round3(generator.gaussian() * 0.5)),"z":\(round3(generator.gaussian() * 0.5))},\
            "cycle_count":\(cycles),"timestamp":"\(RFC3339.format(timestamp))"}
            """
    }

    private func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
