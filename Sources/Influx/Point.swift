/// One InfluxDB point: what a single line of line protocol carries.
public struct Point: Sendable, Equatable {
    public var measurement: String
    /// Tags in any order; the encoder sorts them by key (InfluxDB's preferred order).
    public var tags: [(key: String, value: String)]
    public var fields: [(key: String, value: FieldValue)]
    /// Nanoseconds since the Unix epoch; nil lets the server stamp it.
    public var timestamp: Int64?

    public init(
        measurement: String, tags: [(key: String, value: String)] = [],
        fields: [(key: String, value: FieldValue)], timestamp: Int64? = nil
    ) {
        self.measurement = measurement
        self.tags = tags
        self.fields = fields
        self.timestamp = timestamp
    }

    public static func == (lhs: Point, rhs: Point) -> Bool {
        lhs.measurement == rhs.measurement && lhs.timestamp == rhs.timestamp
            && lhs.tags.map(\.key) == rhs.tags.map(\.key) && lhs.tags.map(\.value) == rhs.tags.map(\.value)
            && lhs.fields.map(\.key) == rhs.fields.map(\.key) && lhs.fields.map(\.value) == rhs.fields.map(\.value)
    }
}

/// A field's value with its line-protocol type.
public enum FieldValue: Sendable, Equatable {
    case float(Double)
    case integer(Int64)
    case unsigned(UInt64)
    case string(String)
    case boolean(Bool)
}
