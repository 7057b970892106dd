/// Turns a sensor's JSON message (the seed's format) into a validated `Reading`, or explains
/// every problem with it. Used for MQTT ingest and for `POST /publish` alike.
public struct ReadingDecoder: Sendable {
    /// Device ids are InfluxDB tag values and MQTT topic levels: bounded and printable.
    public static let maxDeviceIDBytes = DeviceID.maxBytes
    /// Larger payloads are refused before parsing.
    public static let maxPayloadBytes = 64 * 1024

    public var catalog: SensorCatalog

    public init(catalog: SensorCatalog) {
        self.catalog = catalog
    }

    /// Decodes `payload`. `topicDeviceID` is the device named by the topic (it must match the
    /// payload's `device_id`); `receivedAt` (ns) is used when the reading has no timestamp.
    public func decode(
        _ payload: UnsafeRawBufferPointer, topicDeviceID: String?, receivedAt: Int64
    ) -> Result<Reading, ReadingRejection> {
        guard payload.count <= Self.maxPayloadBytes else {
            return .failure(
                ReadingRejection(
                    field: "payload", "\(payload.count) bytes is larger than the limit of \(Self.maxPayloadBytes)"))
        }
        if let reading = ReadingScanner.scan(
            payload, topicDeviceID: topicDeviceID, receivedAt: receivedAt, catalog: catalog)
        {
            return .success(reading)
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(payload.bindMemory(to: UInt8.self))
        } catch {
            return .failure(ReadingRejection(field: "payload", error.description))
        }
        return decode(document, topicDeviceID: topicDeviceID, receivedAt: receivedAt)
    }

    /// Decodes bytes held in any collection (tests, HTTP bodies).
    public func decode(
        _ payload: some Collection<UInt8>, topicDeviceID: String?, receivedAt: Int64
    ) -> Result<Reading, ReadingRejection> {
        let array = Array(payload)
        return array.withUnsafeBytes { decode($0, topicDeviceID: topicDeviceID, receivedAt: receivedAt) }
    }

    /// Validates an already parsed document.
    public func decode(_ document: JSONValue, topicDeviceID: String?, receivedAt: Int64) -> Result<
        Reading, ReadingRejection
    > {
        guard case .object(let members) = document else {
            return .failure(ReadingRejection(field: "payload", "expected a JSON object, got \(document.typeName)"))
        }
        var errors = FieldErrorList()
        var deviceID: String?
        var timestamp: Int64?
        var wholeSeconds = false
        var location: String?
        var line: String?
        var values: [Metric: Double] = [:]
        var seen = Set<String>()

        func setMetric(_ metric: Metric, _ value: JSONValue, field: String) {
            if values[metric] != nil {
                errors.append(FieldError(field: field, message: "\(metric.name) is given twice"))
                return
            }
            if let number = validate(metric, value, field: field, errors: &errors) {
                values[metric] = number
            }
        }

        for (key, value) in members {
            guard seen.insert(key).inserted else {
                errors.append(FieldError(field: key, message: "duplicate field"))
                continue
            }
            switch key {
            case "device_id":
                deviceID = validateDeviceID(value, topicDeviceID: topicDeviceID, errors: &errors)
            case "location", "line":
                switch value {
                case .null: break
                case .string(let text):
                    if let problem = TagValue.problem(text) {
                        errors.append(FieldError(field: key, message: problem))
                    } else if key == "location" {
                        location = text
                    } else {
                        line = text
                    }
                default:
                    errors.append(FieldError(field: key, message: "expected a string, got \(value.typeName)"))
                }
            case "timestamp":
                switch value {
                case .null: break
                case .string(let text):
                    if let parsed = RFC3339.parse(text) {
                        timestamp = parsed
                        wholeSeconds = RFC3339.isWholeSeconds(utf8: text.utf8)
                    } else {
                        errors.append(
                            FieldError(
                                field: key,
                                message: "'\(text.prefix(64))' is not an RFC 3339 timestamp like 2025-11-17T10:30:00Z"))
                    }
                default:
                    errors.append(FieldError(field: key, message: "expected an RFC 3339 string, got \(value.typeName)"))
                }
            default:
                if let metric = Metric(name: key) {
                    setMetric(metric, value, field: key)
                } else if let axes = Metric.vectorGroups[key] {
                    switch value {
                    case .null: break
                    case .object(let components):
                        for (axis, component) in components {
                            if let metric = axes[axis] {
                                setMetric(metric, component, field: "\(key).\(axis)")
                            } else {
                                errors.append(
                                    FieldError(field: "\(key).\(axis)", message: "unknown axis; expected x, y or z"))
                            }
                        }
                    default:
                        errors.append(
                            FieldError(
                                field: key, message: "expected an object with x, y and z, got \(value.typeName)"))
                    }
                } else {
                    errors.append(FieldError(field: key, message: "unknown field; expected \(Self.knownFields)"))
                }
            }
        }
        if deviceID == nil, !errors.contains(where: { $0.field == "device_id" }) {
            if let topicDeviceID {
                // The per-device topic names the device; the payload may leave it out.
                if let problem = Self.deviceIDProblem(topicDeviceID) {
                    errors.append(
                        FieldError(field: "topic", message: "device id '\(topicDeviceID.prefix(64))' \(problem)"))
                } else {
                    deviceID = topicDeviceID
                }
            } else {
                errors.append(FieldError(field: "device_id", message: "required"))
            }
        }
        if values.isEmpty, errors.isEmpty {
            errors.append(
                FieldError(field: "payload", message: "no metric values; expected at least one of \(Self.knownFields)"))
        }
        if !errors.isEmpty { return .failure(ReadingRejection(errors)) }
        let ordered = Metric.allCases.compactMap { metric in values[metric].map { MetricValue(metric, $0) } }
        return .success(
            Reading(
                deviceID: deviceID!, timestamp: timestamp ?? receivedAt, values: ordered,
                timestampInWholeSeconds: wholeSeconds, location: location, line: line))
    }

    static let knownFields =
        "device_id, timestamp, location, line, "
        + (Metric.allCases.map(\.name) + Metric.vectorGroups.keys.sorted().map { "\($0){x,y,z}" })
        .joined(separator: ", ")

    private func validateDeviceID(_ value: JSONValue, topicDeviceID: String?, errors: inout FieldErrorList) -> String? {
        guard case .string(let id) = value else {
            errors.append(FieldError(field: "device_id", message: "expected a string, got \(value.typeName)"))
            return nil
        }
        if let problem = Self.deviceIDProblem(id) {
            errors.append(FieldError(field: "device_id", message: problem))
            return nil
        }
        if let topicDeviceID, topicDeviceID != id {
            errors.append(
                FieldError(
                    field: "device_id",
                    message: "'\(id)' does not match the device '\(topicDeviceID)' named by the topic"))
            return nil
        }
        return id
    }

    /// Why `id` cannot be a device id, or nil when it can (`DeviceID` defines the alphabet).
    public static func deviceIDProblem(_ id: String) -> String? { DeviceID.problem(id) }

    private func validate(_ metric: Metric, _ value: JSONValue, field: String, errors: inout FieldErrorList) -> Double?
    {
        guard case .number(let number, let integer) = value else {
            if case .null = value { return nil }
            errors.append(FieldError(field: field, message: "expected a number, got \(value.typeName)"))
            return nil
        }
        if metric.isInteger, integer == nil {
            errors.append(FieldError(field: field, message: "expected a whole number, got \(number)"))
            return nil
        }
        if let entry = catalog[metric], !entry.validRange.contains(number) {
            errors.append(
                FieldError(
                    field: field,
                    message:
                        "\(number) \(entry.unit) is outside the valid range \(entry.validRange.lowerBound)…\(entry.validRange.upperBound)"
                ))
            return nil
        }
        return number
    }
}

/// The MQTT topics readings arrive on.
public enum ReadingTopic {
    /// The seed's shared topic; per-device topics are below it.
    public static let base = "factory/sensor/data"
    /// The subscription that covers both.
    public static let filter = "factory/sensor/data/#"

    private static let devicePrefixBytes = Array((base + "/").utf8)

    /// The per-device topic for `deviceID`.
    public static func topic(for deviceID: String) -> String { "\(base)/\(deviceID)" }

    /// The device named by `topic`, nil for the shared topic. Throws for topics outside `base`.
    public static func deviceID(inTopic topic: String) -> String?? {
        if topic == base { return .some(nil) }
        // Byte-wise, as MQTT compares topics (and without counting characters per message);
        // on the contiguous bytes, where String.UTF8View's generic `starts(with:)` stepped one
        // by one. The prefix is ASCII ending in "/", so the rest starts on a character.
        let prefix = devicePrefixBytes
        var topic = topic
        return topic.withUTF8 { bytes -> String?? in
            guard bytes.count > prefix.count, bytes.starts(with: prefix) else { return nil }
            return .some(String(decoding: UnsafeBufferPointer(rebasing: bytes[prefix.count...]), as: UTF8.self))
        }
    }
}
