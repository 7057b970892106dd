import MobyCore

/// A device's registry entry: its name, where it stands (site and line), which profile judges
/// its readings and its free labels. Operators set it through `PUT /api/v1/devices/{id}`; a
/// reading carrying `location` or `line` updates those. Kept in SQLite (`DeviceStore`) and put
/// on every stored point as InfluxDB tags.
struct DeviceMeta: Sendable, Equatable {
    var name: String?
    var location: String?
    var line: String?
    var profile: String = SensorCatalog.defaultProfile
    var labels: [String: String] = [:]
    /// When the server first heard from (or of) the device, ns.
    var firstSeen: Int64

    /// The tags every point of the device carries after `device_id`, sorted by key, in line
    /// protocol (tag values follow `TagValue`'s alphabet, which needs no escaping).
    var tags: [(key: String, value: String)] {
        var tags = labels.map { (key: $0.key, value: $0.value) }
        if let location { tags.append((key: "location", value: location)) }
        if let line { tags.append((key: "line", value: line)) }
        tags.append((key: "profile", value: profile))
        return tags.sorted { $0.key < $1.key }
    }

    /// `tags` as the bytes that follow `sensors,device_id=<id>` in a line.
    var tagBytes: [UInt8] {
        var bytes: [UInt8] = []
        for tag in tags {
            bytes.append(UInt8(ascii: ","))
            bytes.append(contentsOf: tag.key.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes.append(contentsOf: tag.value.utf8)
        }
        return bytes
    }

    /// The tag values that count against the distinct-values limit, by key.
    var countedTags: [(key: String, value: String)] { tags.filter { $0.key != "profile" } }
}

/// A change to a device's registry entry (`PUT /api/v1/devices/{id}`): the whole editable part.
struct DeviceMetaChange: Sendable, Equatable {
    var name: String?
    var location: String?
    var line: String?
    var profile: String
    var labels: [String: String]
}
