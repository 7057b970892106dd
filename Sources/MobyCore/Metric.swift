/// A quantity a factory sensor measures. The names are the seed's JSON keys and the InfluxDB
/// field names (accel and gyro are stored per axis).
public enum Metric: String, CaseIterable, Sendable, Hashable, Codable {
    case temperature
    case humidity
    case vibration
    case sound
    case accelX = "accel_x"
    case accelY = "accel_y"
    case accelZ = "accel_z"
    case gyroX = "gyro_x"
    case gyroY = "gyro_y"
    case gyroZ = "gyro_z"
    case cycleCount = "cycle_count"

    /// The field name in JSON and in InfluxDB.
    public var name: String { rawValue }

    /// Counters are stored as InfluxDB integers; everything else as floats.
    public var isInteger: Bool { self == .cycleCount }

    /// The three-axis groups the seed sends as one object (`"accel": {"x":…, "y":…, "z":…}`).
    public static let vectorGroups: [String: [String: Metric]] = [
        "accel": ["x": .accelX, "y": .accelY, "z": .accelZ],
        "gyro": ["x": .gyroX, "y": .gyroY, "z": .gyroZ],
    ]

    /// Position in `allCases`, for table lookups on the hot path.
    public var ordinal: Int {
        switch self {
        case .temperature: 0
        case .humidity: 1
        case .vibration: 2
        case .sound: 3
        case .accelX: 4
        case .accelY: 5
        case .accelZ: 6
        case .gyroX: 7
        case .gyroY: 8
        case .gyroZ: 9
        case .cycleCount: 10
        }
    }

    /// Looks a metric up by its flat name (`temperature`, `accel_x`).
    public init?(name: String) { self.init(rawValue: name) }
}
