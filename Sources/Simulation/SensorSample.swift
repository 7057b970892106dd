import MobyCore

/// One reading's values from every sensor of a device, before it becomes seed-format JSON.
public struct SensorSample: Sendable, Equatable {
    public var temperature: Double
    public var humidity: Double
    public var vibration: Double
    public var sound: Double
    public var accel: SIMD3<Double>
    public var gyro: SIMD3<Double>
    public var cycleCount: Int64

    /// The values as a `Reading` (what the server's scorer sees).
    public func reading(deviceID: String, timestamp: Int64) -> Reading {
        Reading(
            deviceID: deviceID, timestamp: timestamp,
            values: [
                MetricValue(.temperature, temperature), MetricValue(.humidity, humidity),
                MetricValue(.vibration, vibration), MetricValue(.sound, sound), MetricValue(.accelX, accel.x),
                MetricValue(.accelY, accel.y), MetricValue(.accelZ, accel.z), MetricValue(.gyroX, gyro.x),
                MetricValue(.gyroY, gyro.y), MetricValue(.gyroZ, gyro.z), MetricValue(.cycleCount, Double(cycleCount)),
            ])
    }

    /// The seed's JSON message (`accel`/`gyro` as x/y/z objects), values rounded to 3 decimals.
    public func json(deviceID: String, timestamp: Int64) -> String {
        """
        {"device_id":"\(deviceID)","temperature":\(r(temperature)),"humidity":\(r(humidity)),\
        "vibration":\(r(vibration)),"sound":\(r(sound)),\
        "accel":{"x":\(r(accel.x)),"y":\(r(accel.y)),"z":\(r(accel.z))},\
        "gyro":{"x":\(r(gyro.x)),"y":\(r(gyro.y)),"z":\(r(gyro.z))},\
        "cycle_count":\(cycleCount),"timestamp":"\(RFC3339.format(timestamp))"}
        """
    }

    private func r(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
