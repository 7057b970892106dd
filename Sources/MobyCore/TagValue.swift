/// The values of a device's registry tags (location, line, labels): InfluxDB tag values that
/// Grafana variables list and dashboards group by, so they follow the device id's alphabet and
/// stay short.
public enum TagValue {
    public static let maxBytes = 64

    /// Why `text` cannot be a tag value, or nil when it can.
    public static func problem(_ text: String) -> String? {
        if text.utf8.count > maxBytes { return "at most \(maxBytes) bytes, got \(text.utf8.count)" }
        return DeviceID.problem(text)
    }
}
