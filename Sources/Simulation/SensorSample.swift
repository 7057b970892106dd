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
    public func json(deviceID: String, timestamp: Int64, location: String? = nil, line: String? = nil) -> String {
        String(
            decoding: jsonBytes(deviceID: deviceID, timestamp: timestamp, location: location, line: line),
            as: UTF8.self)
    }

    /// `json(deviceID:timestamp:)` as UTF-8, written digit by digit: load mode makes tens of
    /// thousands a second, and formatting doubles as text cost more than everything else.
    public func jsonBytes(deviceID: String, timestamp: Int64, location: String? = nil, line: String? = nil)
        -> [UInt8]
    {
        var out: [UInt8] = []
        out.reserveCapacity(320 + deviceID.utf8.count)
        func raw(_ text: StaticString) {
            text.withUTF8Buffer { out.append(contentsOf: $0) }
        }
        func number(_ value: Double) {
            Self.writeMillis(value, into: &out)
        }
        raw(#"{"device_id":""#)
        out.append(contentsOf: deviceID.utf8)
        raw(#"","temperature":"#)
        number(temperature)
        raw(#","humidity":"#)
        number(humidity)
        raw(#","vibration":"#)
        number(vibration)
        raw(#","sound":"#)
        number(sound)
        raw(#","accel":{"x":"#)
        number(accel.x)
        raw(#","y":"#)
        number(accel.y)
        raw(#","z":"#)
        number(accel.z)
        raw(#"},"gyro":{"x":"#)
        number(gyro.x)
        raw(#","y":"#)
        number(gyro.y)
        raw(#","z":"#)
        number(gyro.z)
        raw(#"},"cycle_count":"#)
        Self.writeInteger(cycleCount, into: &out)
        raw(#","timestamp":""#)
        out.append(contentsOf: RFC3339.format(timestamp).utf8)
        // Tag values (`TagValue`) need no JSON escaping.
        if let location {
            raw(#"","location":""#)
            out.append(contentsOf: location.utf8)
        }
        if let line {
            raw(#"","line":""#)
            out.append(contentsOf: line.utf8)
        }
        raw(#""}"#)
        return out
    }

    /// `value` rounded to 3 decimals, without trailing zeros (`25.3`, `-0.02`, `7`).
    static func writeMillis(_ value: Double, into out: inout [UInt8]) {
        let scaled = (value * 1000).rounded()
        guard scaled.isFinite, abs(scaled) < 9e15 else {
            out.append(contentsOf: "\(value)".utf8)
            return
        }
        var millis = Int64(scaled)
        if millis < 0 {
            out.append(UInt8(ascii: "-"))
            millis = -millis
        }
        writeInteger(millis / 1000, into: &out)
        var fraction = millis % 1000
        guard fraction > 0 else { return }
        out.append(UInt8(ascii: "."))
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var divisor: Int64 = digits == 3 ? 100 : digits == 2 ? 10 : 1
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(fraction / divisor % 10))
            divisor /= 10
        }
    }

    static func writeInteger(_ value: Int64, into out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        // Most significant digit first, without a scratch array (one per number showed in the
        // load-mode profile). The magnitude is below 10^19, so the divisor never overflows.
        let magnitude = value.magnitude
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude / divisor % 10))
            divisor /= 10
        } while divisor > 0
    }
}
