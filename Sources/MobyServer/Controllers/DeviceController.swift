import Hummingbird
import MobyCore

/// `GET /api/v1/devices`: every device the server has heard from since it started, when,
/// its latest values and anomaly score, online or stale, and its open alert.
struct DeviceController<Context: RequestContext>: Sendable {
    let fleet: FleetState
    let center: AlertCenter
    let staleAfter: Duration

    struct DeviceDocument: Codable {
        struct OpenAlert: Codable {
            var id: Int64
            var severity: Severity
            var status: AlertStatus
        }
        var deviceID: String
        var status: String
        var lastSeen: String
        var lastReadingAt: String
        var readings: Int64
        var anomalyScore: Double
        var values: [String: Double]
        var alert: OpenAlert?

        enum CodingKeys: String, CodingKey {
            case status, readings, values, alert
            case deviceID = "device_id"
            case lastSeen = "last_seen"
            case lastReadingAt = "last_reading_at"
            case anomalyScore = "anomaly_score"
        }
    }

    struct DeviceList: ResponseEncodable {
        var devices: [DeviceDocument]
        var staleAfterSeconds: Int64

        enum CodingKeys: String, CodingKey {
            case devices
            case staleAfterSeconds = "stale_after_seconds"
        }
    }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/api/v1/devices") { _, _ in await list() }
        return routes
    }

    private func list() async -> DeviceList {
        let now = WallClock.nanoseconds()
        let stale = staleAfter.nanoseconds
        let alerts = Dictionary(
            await center.openAlerts().map { ($0.deviceID, $0) }, uniquingKeysWith: { a, b in a.id > b.id ? a : b })
        let devices = fleet.snapshot().map { id, device in
            DeviceDocument(
                deviceID: id, status: now - device.receivedAt > stale ? "stale" : "online",
                lastSeen: RFC3339.format(device.receivedAt), lastReadingAt: RFC3339.format(device.lastReadingAt),
                readings: device.readings, anomalyScore: device.score,
                values: Dictionary(device.values.map { ($0.metric.name, $0.value) }, uniquingKeysWith: { $1 }),
                alert: alerts[id].map { .init(id: $0.id, severity: $0.severity, status: $0.status) })
        }
        return DeviceList(devices: devices, staleAfterSeconds: staleAfter.components.seconds)
    }
}
