import Influx
import MobyCore

extension Reading {
    /// The InfluxDB measurement readings are stored in.
    static let measurement = "sensors"

    /// The reading as one wide point: tag `device_id`, one field per metric.
    var point: Point {
        Point(
            measurement: Self.measurement,
            tags: [(key: "device_id", value: deviceID)],
            fields: values.map { value in
                (
                    key: value.metric.name,
                    value: value.metric.isInteger ? .integer(Int64(value.value)) : .float(value.value)
                )
            },
            timestamp: timestamp)
    }
}
