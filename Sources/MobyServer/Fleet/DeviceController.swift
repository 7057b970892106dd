import Foundation
import Hummingbird
import MobyCore

/// `GET /api/v1/devices[?limit=&offset=&location=&line=&profile=]`: the devices in the registry,
/// in id order and one page at a time (the fleet can be large): their name, location, line,
/// profile and labels, when they were last heard from, their latest values and anomaly score,
/// online or stale, and their open alert; `?id=` keeps one device (an empty list when unknown).
/// `GET /api/v1/devices/{id}`: one of them (404 when unknown). `PUT /api/v1/devices/{id}`: sets
/// its name, location, line, profile and labels (registering it when new); the next reading is
/// judged by the new profile and stored with the new tags.
struct DeviceController<Context: RequestContext>: Sendable {
    let fleet: FleetState
    let center: AlertCenter
    let registry: DeviceStore
    let catalog: SensorCatalog
    let staleAfter: Duration

    struct DeviceDocument: Codable, ResponseEncodable {
        struct OpenAlert: Codable {
            var id: Int64
            var severity: Severity
            var status: AlertStatus
        }
        var deviceID: String
        var name: String?
        var location: String?
        var line: String?
        var profile: String
        var labels: [String: String]
        var firstSeen: String
        var status: String
        var lastSeen: String
        var lastReadingAt: String
        var readings: Int64
        var anomalyScore: Double
        var values: [String: Double]
        var alert: OpenAlert?

        enum CodingKeys: String, CodingKey {
            case status, readings, values, alert, name, location, line, profile, labels
            case deviceID = "device_id"
            case firstSeen = "first_seen"
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

    /// Changing a device's name, place, profile and labels (operators).
    var actionRoutes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.put("/api/v1/devices/{id}") { request, context in try await change(request, context) }
        return routes
    }

    private func list(_ request: Request) async throws -> DeviceList {
        var parameters = QueryParameters(request)
        let limit = parameters.int("limit", default: 500, in: 1...5_000)
        let offset = parameters.int("offset", default: 0, in: 0...Int(Int32.max))
        let only = parameters.deviceID("id")
        let location = parameters.string("location")
        let line = parameters.string("line")
        let profile = parameters.string("profile")
        try parameters.check()
        let now = WallClock.nanoseconds()
        let alerts = Dictionary(
            await center.openAlerts().map { ($0.deviceID, $0) }, uniquingKeysWith: { a, b in a.id > b.id ? a : b })
        let page =
            if let only {
                fleet.device(only).map { (devices: [(id: only, device: $0)], total: 1) } ?? (devices: [], total: 0)
            } else if location != nil || line != nil || profile != nil {
                Self.page(
                    fleet.snapshot().filter { _, device in
                        (location == nil || device.meta.location == location)
                            && (line == nil || device.meta.line == line)
                            && (profile == nil || device.meta.profile == profile)
                    }, offset: offset, limit: limit)
            } else {
                fleet.page(offset: offset, limit: limit)
            }
        let devices = page.devices.map { document($0.id, $0.device, alert: alerts[$0.id], now: now) }
        return DeviceList(
            devices: devices, total: page.total, limit: limit, offset: offset, maxDevices: fleet.maxDevices,
            staleAfterSeconds: staleAfter.components.seconds)
    }

    static func page(_ all: [(id: String, device: FleetState.Device)], offset: Int, limit: Int)
        -> (devices: [(id: String, device: FleetState.Device)], total: Int)
    {
        guard offset < all.count else { return ([], all.count) }
        return (Array(all[offset..<min(all.count, offset + limit)]), all.count)
    }

    private func deviceID(_ context: Context) throws -> String {
        // A device id has no '%', so decoding cannot turn one id into another.
        let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
        if let problem = DeviceID.problem(id) {
            throw APIError(.badRequest, "invalid device id", errors: [FieldError(field: "id", message: problem)])
        }
        return id
    }

    private func one(_ context: Context) async throws -> DeviceDocument {
        let id = try deviceID(context)
        guard let device = fleet.device(id) else {
            throw APIError(.notFound, "no device '\(id)' is known: it has not sent a reading nor been registered")
        }
        let alert = await center.openAlerts().filter { $0.deviceID == id }.max { $0.id < $1.id }
        return document(id, device, alert: alert, now: WallClock.nanoseconds())
    }

    private func change(_ request: Request, _ context: Context) async throws -> EditedResponse<DeviceDocument> {
        let id = try deviceID(context)
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 16 * 1024)
        } catch {
            throw APIError(.contentTooLarge, "body larger than 16 KiB")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(Array(body.readableBytesView))
        } catch {
            throw APIError(
                .badRequest,
                "the body must be JSON like {\"name\": \"Press 7\", \"location\": \"plant-a\", \"line\": \"line-2\", \"profile\": \"press\", \"labels\": {}}: \(error.description)"
            )
        }
        let change = try DeviceMetaBody.parse(document, catalog: catalog)
        let existed = fleet.device(id) != nil
        let device: FleetState.Device
        do {
            device = try fleet.change(id, to: change, allowedLabels: catalog.deviceLabels, at: WallClock.nanoseconds())
        } catch {
            let field: FieldError
            switch error {
            case .unknownProfile(let name):
                field = FieldError(
                    field: "profile",
                    message:
                        "'\(name)' is not a profile of the catalog; known: \(catalog.profileNames.joined(separator: ", "))"
                )
            case .unknownLabel(let key):
                field = FieldError(
                    field: "labels.\(key)",
                    message: "not an allowed label key; allowed: \(catalog.deviceLabels.joined(separator: ", "))")
            case .tagLimit(let key, let limit):
                field = FieldError(
                    field: key == "location" || key == "line" ? key : "labels.\(key)",
                    message: "the fleet already has its limit of \(limit) distinct \(key) values (MOBY_MAX_TAG_VALUES)")
            case .deviceLimit(let limit):
                field = FieldError(
                    field: "id", message: "the server already tracks its limit of \(limit) devices (MOBY_MAX_DEVICES)")
            }
            throw APIError(.unprocessableContent, "the device cannot be changed so", errors: [field])
        }
        do {
            try await registry.saveNow(id, device.meta, lastSeen: device.receivedAt)
        } catch {
            throw APIError(.serviceUnavailable, "the device registry could not be written: \(error)")
        }
        let alert = await center.openAlerts().filter { $0.deviceID == id }.max { $0.id < $1.id }
        return EditedResponse(
            status: existed ? .ok : .created,
            response: self.document(id, device, alert: alert, now: WallClock.nanoseconds()))
    }

    private func document(_ id: String, _ device: FleetState.Device, alert: Alert?, now: Int64) -> DeviceDocument {
        // A device registered but never heard from is stale, last seen when it was registered.
        let neverHeard = device.readings == 0 && device.receivedAt == 0
        let lastSeen = neverHeard ? device.meta.firstSeen : device.receivedAt
        return DeviceDocument(
            deviceID: id, name: device.meta.name, location: device.meta.location, line: device.meta.line,
            profile: device.meta.profile, labels: device.meta.labels, firstSeen: RFC3339.format(device.meta.firstSeen),
            status: neverHeard || now - lastSeen > staleAfter.nanoseconds ? "stale" : "online",
            lastSeen: RFC3339.format(lastSeen), lastReadingAt: RFC3339.format(device.lastReadingAt),
            readings: device.readings, anomalyScore: device.score,
            values: Dictionary(device.values.map { ($0.metric.name, $0.value) }, uniquingKeysWith: { $1 }),
            alert: alert.map { .init(id: $0.id, severity: $0.severity, status: $0.status) })
    }
}
