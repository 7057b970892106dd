import Hummingbird
import MobyCore

/// `GET /api/v1/devices[?limit=&offset=]`: the devices the server has heard from since it
/// started, in id order and one page at a time (the fleet can be large): when, their latest
/// values and anomaly score, online or stale, and their open alert.
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
        var total: Int
        var limit: Int
        var offset: Int
        var maxDevices: Int
        var staleAfterSeconds: Int64

        enum CodingKeys: String, CodingKey {
            case devices, total, limit, offset
            case maxDevices = "max_devices"
            case staleAfterSeconds = "stale_after_seconds"
        }
    }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/api/v1/devices") { request, _ in try await list(request) }
        return routes
    }

    private func list(_ request: Request) async throws -> DeviceList {
        var parameters = QueryParameters(request)
        let limit = parameters.int("limit", default: 500, in: 1...5_000)
        let offset = parameters.int("offset", default: 0, in: 0...Int(Int32.max))
        try parameters.check()
        let now = WallClock.nanoseconds()
        let stale = staleAfter.nanoseconds
        let alerts = Dictionary(
            await center.openAlerts().map { ($0.deviceID, $0) }, uniquingKeysWith: { a, b in a.id > b.id ? a : b })
        let page = fleet.page(offset: offset, limit: limit)
        let devices = page.devices.map { id, device in
            DeviceDocument(
                deviceID: id, status: now - device.receivedAt > stale ? "stale" : "online",
                lastSeen: RFC3339.format(device.receivedAt), lastReadingAt: RFC3339.format(device.lastReadingAt),
                readings: device.readings, anomalyScore: device.score,
                values: Dictionary(device.values.map { ($0.metric.name, $0.value) }, uniquingKeysWith: { $1 }),
                alert: alerts[id].map { .init(id: $0.id, severity: $0.severity, status: $0.status) })
        }
        return DeviceList(
            devices: devices, total: page.total, limit: limit, offset: offset, maxDevices: fleet.maxDevices,
            staleAfterSeconds: staleAfter.components.seconds)
    }
}
