/// What the pipeline knows about each metric: unit and physically possible range. One catalog
/// drives validation now, and scoring, UI and Grafana threshold lines later.
public struct SensorCatalog: Sendable {
    /// One metric's description.
    public struct Entry: Sendable, Equatable {
        public var metric: Metric
        public var unit: String
        /// Values outside this range cannot come from a working sensor and are rejected.
        public var validRange: ClosedRange<Double>

        public init(metric: Metric, unit: String, validRange: ClosedRange<Double>) {
            self.metric = metric
            self.unit = unit
            self.validRange = validRange
        }
    }

    public private(set) var entries: [Metric: Entry]

    public init(entries: [Entry]) {
        self.entries = Dictionary(entries.map { ($0.metric, $0) }, uniquingKeysWith: { $1 })
    }

    public subscript(metric: Metric) -> Entry? { entries[metric] }

    /// Ranges for the seed's sensors: °C, %RH, mm/s RMS, dB(A), m/s², °/s, cycles.
    public static let standard = SensorCatalog(entries: [
        Entry(metric: .temperature, unit: "°C", validRange: -50...250),
        Entry(metric: .humidity, unit: "%", validRange: 0...100),
        Entry(metric: .vibration, unit: "mm/s", validRange: 0...200),
        Entry(metric: .sound, unit: "dB", validRange: 0...200),
        Entry(metric: .accelX, unit: "m/s²", validRange: -200...200),
        Entry(metric: .accelY, unit: "m/s²", validRange: -200...200),
        Entry(metric: .accelZ, unit: "m/s²", validRange: -200...200),
        Entry(metric: .gyroX, unit: "°/s", validRange: -2000...2000),
        Entry(metric: .gyroY, unit: "°/s", validRange: -2000...2000),
        Entry(metric: .gyroZ, unit: "°/s", validRange: -2000...2000),
        Entry(metric: .cycleCount, unit: "cycles", validRange: 0...9.0e18),
    ])
}
