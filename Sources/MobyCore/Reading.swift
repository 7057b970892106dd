/// One sample from one device: what a sensor published, validated, ready to store and score.
public struct Reading: Sendable, Equatable {
    /// The device that measured it (an InfluxDB tag; any printable text, at most 128 bytes).
    public var deviceID: String
    /// Nanoseconds since the Unix epoch (UTC).
    public var timestamp: Int64
    /// The metrics present in this reading, in a stable order (Metric.allCases order).
    public var values: [MetricValue]
    /// True when the sensor wrote its timestamp in whole seconds (no fraction), as the seed's
    /// format does: several readings of one device may then share it.
    public var timestampInWholeSeconds: Bool
    /// The site and production line the sensor says it is at (seed §2.4's `location` tag); when
    /// given, they update the device's registry entry.
    public var location: String?
    public var line: String?

    public init(
        deviceID: String, timestamp: Int64, values: [MetricValue], timestampInWholeSeconds: Bool = false,
        location: String? = nil, line: String? = nil
    ) {
        self.deviceID = deviceID
        self.timestamp = timestamp
        self.values = values
        self.timestampInWholeSeconds = timestampInWholeSeconds
        self.location = location
        self.line = line
    }

    /// The value of `metric`, if the reading has it.
    public subscript(metric: Metric) -> Double? {
        values.first { $0.metric == metric }?.value
    }
}

/// One metric's value in a reading.
public struct MetricValue: Sendable, Equatable {
    public var metric: Metric
    public var value: Double

    public init(_ metric: Metric, _ value: Double) {
        self.metric = metric
        self.value = value
    }
}
