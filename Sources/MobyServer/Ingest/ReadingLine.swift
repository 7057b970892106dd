import Influx
import MobyCore
import NIOCore

extension Reading {
    /// The InfluxDB measurement readings are stored in.
    static let measurement = "sensors"

    /// The reading as one wide point: tag `device_id`, one field per metric, and its
    /// `anomaly_score`. `writeLine` encodes the same line without building it.
    func point(anomalyScore: Double, tags: [(key: String, value: String)] = []) -> Point {
        var fields: [(key: String, value: FieldValue)] = []
        fields.reserveCapacity(values.count + 1)
        for value in values {
            fields.append(
                (
                    key: value.metric.name,
                    value: value.metric.isInteger
                        ? Int64(exactly: value.value).map(FieldValue.integer) ?? .float(value.value)
                        : .float(value.value)
                ))
        }
        fields.append((key: "anomaly_score", value: .float(anomalyScore)))
        return Point(
            measurement: Self.measurement, tags: [(key: "device_id", value: deviceID)] + tags, fields: fields,
            timestamp: timestamp)
    }

    /// Appends the line of `point(anomalyScore:tags:)` to `buffer`, written in place with the
    /// fixed parts as prepared bytes (the hot path of ingest); `tags` are the registry's, already
    /// in line protocol (`DeviceMeta.tagBytes`). On error the buffer is unchanged.
    public func writeLine(anomalyScore: Double, tags: [UInt8] = [], into buffer: inout ByteBuffer)
        throws(LineProtocolError)
    {
        // Escaping at most doubles the id; each field is a key and a number.
        let capacity =
            64 + 2 * deviceID.utf8.count + tags.count + (values.count + 1) * (16 + LineWriter.maxNumberBytes)
        try LineWriter.append(to: &buffer, capacity: capacity) { line throws(LineProtocolError) in
            try line.write("sensors,device_id=")
            try line.write(tagValue: deviceID, of: "device_id")
            if !tags.isEmpty { try line.write(bytes: tags) }
            try line.write(byte: UInt8(ascii: " "))
            for (position, value) in values.enumerated() {
                if position > 0 { try line.write(byte: UInt8(ascii: ",")) }
                try line.write(Self.fieldKey(value.metric))
                if value.metric.isInteger {
                    guard let whole = Int64(exactly: value.value) else {
                        throw LineProtocolError(
                            reason: "\(value.metric.name) \(value.value) does not fit a 64-bit integer field")
                    }
                    try line.write(decimal: whole)
                    try line.write(byte: UInt8(ascii: "i"))
                } else {
                    try line.write(float: value.value, field: value.metric.name)
                }
            }
            try line.write(values.isEmpty ? "anomaly_score=" : ",anomaly_score=")
            try line.write(float: anomalyScore, field: "anomaly_score")
            try line.write(byte: UInt8(ascii: " "))
            try line.write(decimal: timestamp)
            try line.write(byte: UInt8(ascii: "\n"))
        }
    }

    /// `<field>=` per metric (metric names need no escaping).
    private static func fieldKey(_ metric: Metric) -> StaticString {
        switch metric {
        case .temperature: "temperature="
        case .humidity: "humidity="
        case .vibration: "vibration="
        case .sound: "sound="
        case .accelX: "accel_x="
        case .accelY: "accel_y="
        case .accelZ: "accel_z="
        case .gyroX: "gyro_x="
        case .gyroY: "gyro_y="
        case .gyroZ: "gyro_z="
        case .cycleCount: "cycle_count="
        }
    }
}
