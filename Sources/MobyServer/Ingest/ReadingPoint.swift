import Influx
import MobyCore

extension Reading {
    /// The InfluxDB measurement readings are stored in.
    static let measurement = "sensors"

    /// The reading as one wide point: tag `device_id`, one field per metric, and its
    /// `anomaly_score`.
    func point(anomalyScore: Double) -> Point {
        var fields: [(key: String, value: FieldValue)] = []
        fields.reserveCapacity(values.count + 1)  // one allocation per reading, not two
        for value in values {
            fields.append(
                (
                    key: value.metric.name,
                    value: value.metric.isInteger ? .integer(Int64(value.value)) : .float(value.value)
                ))
        }
        fields.append((key: "anomaly_score", value: .float(anomalyScore)))
        return Point(
            measurement: Self.measurement, tags: [(key: "device_id", value: deviceID)], fields: fields,
            timestamp: timestamp)
    }
}
