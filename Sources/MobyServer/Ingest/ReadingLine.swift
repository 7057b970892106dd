import Influx
import MobyCore
import NIOCore

extension Reading {
    /// The InfluxDB measurement readings are stored in.
    static let measurement = "sensors"

    /// The reading as one wide point: tag `device_id`, one field per metric, and its
    /// `anomaly_score`. `writeLine` encodes the same line without building it.
    func point(anomalyScore: Double) -> Point {
        var fields: [(key: String, value: FieldValue)] = []
        fields.reserveCapacity(values.count + 1)
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

    /// Appends the line of `point(anomalyScore:)` to `buffer`, with the fixed parts written as
    /// prepared bytes (the hot path of ingest). On error the buffer is unchanged.
    func writeLine(anomalyScore: Double, into buffer: inout ByteBuffer) throws(LineProtocolError) {
        let start = buffer.writerIndex
        do {
            buffer.writeStaticString("sensors,device_id=")
            try LineProtocol.writeTagValue(deviceID, into: &buffer)
            buffer.writeInteger(UInt8(ascii: " "))
            for (position, value) in values.enumerated() {
                let key = Self.fieldKeys[value.metric.ordinal]
                buffer.writeBytes(position == 0 ? key.dropFirst() : key[...])
                if value.metric.isInteger {
                    LineProtocol.writeDecimal(Int64(value.value), into: &buffer)
                    buffer.writeInteger(UInt8(ascii: "i"))
                } else {
                    try LineProtocol.writeFloatValue(value.value, field: value.metric.name, into: &buffer)
                }
            }
            buffer.writeStaticString(values.isEmpty ? "anomaly_score=" : ",anomaly_score=")
            try LineProtocol.writeFloatValue(anomalyScore, field: "anomaly_score", into: &buffer)
            buffer.writeInteger(UInt8(ascii: " "))
            LineProtocol.writeDecimal(timestamp, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "\n"))
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// `,<field>=` per metric, by ordinal (metric names need no escaping).
    private static let fieldKeys: [[UInt8]] = Metric.allCases.map { Array(",\($0.name)=".utf8) }
}
