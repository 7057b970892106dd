import Foundation
import Hummingbird
import MobyCore

/// `GET /api/v1/devices[?limit=&offset=]`: the devices the server has heard from since it
/// started, in id order and one page at a time (the fleet can be large): when, their latest
/// values and anomaly score, online or stale, and their open alert; `?id=` keeps one device (an
/// empty list when never heard from). `GET /api/v1/devices/{id}`: one of them (404 when never
/// heard from).
struct DeviceController<Context: RequestContext>: Sendable {
    let fleet: FleetState
    let center: AlertCenter
    let staleAfter: Duration

    struct DeviceDocument: Codable, ResponseEncodable {
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
        routes.get("/api/v1/devices/{id}") { _, context in try await one(context) }
        return routes
    }

    private func list(_ request: Request) async throws -> DeviceList {
        var parameters = QueryParameters(request)
        let limit = parameters.int("limit", default: 500, in: 1...5_000)
        let offset = parameters.int("offset", default: 0, in: 0...Int(Int32.max))
        let only = parameters.deviceID("id")
        try parameters.check()
        let now = WallClock.nanoseconds()
        let alerts = Dictionary(
            await center.openAlerts().map { ($0.deviceID, $0) }, uniquingKeysWith: { a, b in a.id > b.id ? a : b })
        let page =
            if let only {
                fleet.device(only).map { (devices: [(id: only, device: $0)], total: 1) } ?? (devices: [], total: 0)
            } else {
                fleet.page(offset: offset, limit: limit)
            }
        let devices = page.devices.map { document($0.id, $0.device, alert: alerts[$0.id], now: now) }
        return DeviceList(
            devices: devices, total: page.total, limit: limit, offset: offset, maxDevices: fleet.maxDevices,
            staleAfterSeconds: staleAfter.components.seconds)
    }

    private func one(_ context: Context) async throws -> DeviceDocument {
        // A device id has no '%', so decoding cannot turn one id into another.
        let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
        if let problem = DeviceID.problem(id) {
            throw APIError(.badRequest, "invalid device id", errors: [FieldError(field: "id", message: problem)])
        }
        guard let device = fleet.device(id) else {
            throw APIError(.notFound, "no device '\(id)' has sent a reading since the server started")
        }
        let alert = await center.openAlerts().filter { $0.deviceID == id }.max { $0.id < $1.id }
        return document(id, device, alert: alert, now: WallClock.nanoseconds())
    }

    private func document(_ id: String, _ device: FleetState.Device, alert: Alert?, now: Int64) -> DeviceDocument {
        DeviceDocument(
            deviceID: id, status: now - device.receivedAt > staleAfter.nanoseconds ? "stale" : "online",
            lastSeen: RFC3339.format(device.receivedAt), lastReadingAt: RFC3339.format(device.lastReadingAt),
            readings: device.readings, anomalyScore: device.score,
            values: Dictionary(device.values.map { ($0.metric.name, $0.value) }, uniquingKeysWith: { $1 }),
            alert: alert.map { .init(id: $0.id, severity: $0.severity, status: $0.status) })
    }
}
