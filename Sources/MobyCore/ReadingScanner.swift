/// The hot path of `ReadingDecoder`: one pass over the bytes of a well-formed reading, with no
/// document tree, no dictionaries and no string for a key. It accepts only what it can decide
/// alone (known keys once each, plain strings, plain numbers, values in range); anything else —
/// an error, an escape, a null, a duplicate — returns nil, and the full decoder decides and
/// explains. So the two can never disagree on a reading that is stored.
struct ReadingScanner {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The reading in `bytes`, or nil when the full decoder has to look at it.
    static func scan(
        _ bytes: UnsafeRawBufferPointer, topicDeviceID: String?, receivedAt: Int64, catalog: SensorCatalog
    ) -> Reading? {
        var scanner = ReadingScanner(bytes)
        return scanner.reading(topicDeviceID: topicDeviceID, receivedAt: receivedAt, catalog: catalog)
    }

    private mutating func reading(topicDeviceID: String?, receivedAt: Int64, catalog: SensorCatalog) -> Reading? {
        var values = MetricSlots()
        var deviceID: String?
        var timestamp: Int64?
        var wholeSeconds = false
        var seenKeys: UInt32 = 0
        skipWhitespace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return nil }
        repeat {
            skipWhitespace()
            guard let key = key() else { return nil }
            let bit: UInt32 = 1 << key.rawValue
            guard seenKeys & bit == 0 else { return nil }
            seenKeys |= bit
            skipWhitespace()
            switch key {
            case .deviceID:
                guard let text = plainString() else { return nil }
                guard let id = Self.deviceID(text, topicDeviceID: topicDeviceID) else { return nil }
                deviceID = id
            case .timestamp:
                guard let text = plainString(),
                    let parsed = RFC3339.parse(utf8: text.assumingMemoryBound(to: UInt8.self))
                else { return nil }
                timestamp = parsed
                wholeSeconds = RFC3339.isWholeSeconds(utf8: text)
            case .accel, .gyro:
                guard vector(key == .accel ? Self.accelAxes : Self.gyroAxes, into: &values, catalog: catalog) else {
                    return nil
                }
            case .metric(let metric):
                guard let value = number(for: metric, catalog: catalog), values.set(metric, value) else { return nil }
            }
            skipWhitespace()
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { return nil }
        skipWhitespace()
        guard index == bytes.count, !values.isEmpty else { return nil }
        if deviceID == nil, let topicDeviceID, Self.isPlainDeviceID(topicDeviceID.utf8) { deviceID = topicDeviceID }
        guard let id = deviceID else { return nil }
        return Reading(
            deviceID: id, timestamp: timestamp ?? receivedAt, values: values.ordered(),
            timestampInWholeSeconds: wholeSeconds)
    }

    // MARK: Keys

    private enum Key: Equatable {
        case deviceID, timestamp, accel, gyro
        case metric(Metric)

        /// A bit position per key, for duplicate detection.
        var rawValue: Int {
            switch self {
            case .deviceID: 0
            case .timestamp: 1
            case .accel: 2
            case .gyro: 3
            case .metric(let metric): 4 + metric.ordinal
            }
        }
    }

    private static let keys: [(name: [UInt8], key: Key)] =
        [
            (Array("device_id".utf8), .deviceID), (Array("timestamp".utf8), .timestamp),
            (Array("accel".utf8), .accel), (Array("gyro".utf8), .gyro),
        ] + Metric.allCases.map { (Array($0.name.utf8), .metric($0)) }
    private static let accelAxes: [Metric] = [.accelX, .accelY, .accelZ]
    private static let gyroAxes: [Metric] = [.gyroX, .gyroY, .gyroZ]

    /// A known member name and its colon.
    private mutating func key() -> Key? {
        guard let name = plainString() else { return nil }
        skipWhitespace()
        guard take(UInt8(ascii: ":")) else { return nil }
        for candidate in Self.keys where candidate.name.count == name.count {
            if candidate.name.withUnsafeBytes({ $0.elementsEqual(name) }) { return candidate.key }
        }
        return nil
    }

    /// `{"x": …, "y": …, "z": …}` (any order, each once) into the group's three metrics.
    private mutating func vector(_ axes: [Metric], into values: inout MetricSlots, catalog: SensorCatalog) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return true }
        repeat {
            skipWhitespace()
            guard let name = plainString(), name.count == 1 else { return false }
            let axis: Metric
            switch name[0] {
            case UInt8(ascii: "x"): axis = axes[0]
            case UInt8(ascii: "y"): axis = axes[1]
            case UInt8(ascii: "z"): axis = axes[2]
            default: return false
            }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            guard let value = number(for: axis, catalog: catalog), values.set(axis, value) else { return false }
            skipWhitespace()
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    // MARK: Values

    /// A string without escapes or control characters, as its raw bytes.
    private mutating func plainString() -> UnsafeRawBufferPointer? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return UnsafeRawBufferPointer(rebasing: bytes[start..<index])
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            index += 1
        }
        return nil
    }

    /// The device id when it is valid and matches the topic.
    private static func deviceID(_ text: UnsafeRawBufferPointer, topicDeviceID: String?) -> String? {
        guard isPlainDeviceID(text) else { return nil }
        if let topicDeviceID {
            // The usual case: the payload repeats the topic's id, whose string we already have.
            guard topicDeviceID.utf8.elementsEqual(text) else { return nil }
            return topicDeviceID
        }
        return String(validating: text.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }

    /// True when the bytes are a device id the scanner may accept alone (plain ASCII letters,
    /// digits and separators); anything else goes to the full decoder, which explains.
    static func isPlainDeviceID(_ bytes: some Collection<UInt8>) -> Bool { DeviceID.isPlainASCII(bytes) }

    /// A JSON number valid for `metric` (whole for counters, inside the catalog's range).
    private mutating func number(for metric: Metric, catalog: SensorCatalog) -> Double? {
        let start = index
        var negative = false
        if take(UInt8(ascii: "-")) { negative = true }
        var mantissa: UInt64 = 0
        var digits = 0
        let integerStart = index
        while index < bytes.count, let digit = Self.digit(bytes[index]) {
            mantissa = mantissa &* 10 &+ UInt64(digit)
            digits += 1
            index += 1
        }
        guard digits > 0 else { return nil }
        // JSON allows no leading zeros.
        if digits > 1, bytes[integerStart] == UInt8(ascii: "0") { return nil }
        var fraction = 0
        if take(UInt8(ascii: ".")) {
            while index < bytes.count, let digit = Self.digit(bytes[index]) {
                mantissa = mantissa &* 10 &+ UInt64(digit)
                digits += 1
                fraction += 1
                index += 1
            }
            guard fraction > 0 else { return nil }
        }
        let magnitude = mantissa
        let signed = negative
        var value: Double
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            return nil
        } else if digits <= 15 {
            // Both operands are exact doubles, so one division is correctly rounded: the same
            // value strtod gives.
            value = Double(mantissa) / Self.powersOfTen[fraction]
        } else {
            guard
                let parsed = Double(
                    String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)),
                parsed.isFinite
            else { return nil }
            value = parsed
            negative = false
        }
        if negative { value = -value }
        if metric.isInteger {
            // Counters must be written as whole numbers that fit Int64 (19 digits fit UInt64).
            guard fraction == 0, digits <= 19, magnitude <= UInt64(Int64.max) + (signed ? 1 : 0) else { return nil }
        }
        if let range = catalog.validRanges[metric.ordinal], !range.contains(value) { return nil }
        return value
    }

    private static let powersOfTen: [Double] = (0...15).map { exponent in
        (0..<exponent).reduce(1.0) { value, _ in value * 10 }
    }

    private static func digit(_ byte: UInt8) -> UInt8? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : nil
    }

    // MARK: Bytes

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }
}

/// A reading's values by metric, without a dictionary: one slot per metric and a bit set.
private struct MetricSlots {
    private var slots = InlineArray<11, Double>(repeating: 0)
    private var present: UInt32 = 0

    var isEmpty: Bool { present == 0 }

    /// Stores `value`; false if the metric already has one.
    mutating func set(_ metric: Metric, _ value: Double) -> Bool {
        let bit: UInt32 = 1 << metric.ordinal
        guard present & bit == 0 else { return false }
        present |= bit
        slots[metric.ordinal] = value
        return true
    }

    /// The values in `Metric.allCases` order, as `Reading` keeps them.
    func ordered() -> [MetricValue] {
        var values: [MetricValue] = []
        values.reserveCapacity(present.nonzeroBitCount)
        for metric in Metric.allCases where present & (1 << metric.ordinal) != 0 {
            values.append(MetricValue(metric, slots[metric.ordinal]))
        }
        return values
    }
}
