import Hummingbird
import Influx
import MQTT
import MobyCore

/// `/health` (is the process alive) and `/health/ready` (can it do its job: broker connected,
/// subscription in place, InfluxDB reachable, writing and not refusing lines as a matter of
/// course; plus what waits in the spool). Ready answers 503 when degraded, which load balancers
/// understand.
struct HealthController<Context: RequestContext>: Sendable {
    let client: MQTTClient
    let influx: InfluxClient
    let writer: BatchWriter<MQTTMessage>
    let status: IngestStatus
    let refusals: RefusedReadings

    struct Liveness: ResponseEncodable {
        var status = "ok"
    }

    struct Readiness: ResponseEncodable {
        struct Broker: Codable {
            var connected: Bool
            var subscribed: Bool
        }
        struct Influx: Codable {
            var reachable: Bool
            var lastError: String?
            /// At least `RefusalWindow.threshold` lines refused within the window.
            var refusing: Bool
            var refusedLinesRecent: Int
            var lastRefusal: String?
            var lastRefusalAt: String?

            enum CodingKeys: String, CodingKey {
                case reachable, refusing
                case lastError = "last_error"
                case refusedLinesRecent = "refused_lines_recent"
                case lastRefusal = "last_refusal"
                case lastRefusalAt = "last_refusal_at"
            }
        }
        struct SpoolState: Codable {
            var readings: Int
            var batches: Int
            var bytes: Int64
        }
        var status: String
        var mqtt: Broker
        var influxdb: Influx
        var spool: SpoolState
        var pendingReadings: Int

        enum CodingKeys: String, CodingKey {
            case status, mqtt, influxdb, spool
            case pendingReadings = "pending_readings"
        }
    }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/health") { _, _ in Liveness() }
        return routes
    }

    /// `/health/ready`: for monitoring (credentials unless configured open).
    var readinessRoutes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/health/ready") { _, _ in try await readiness() }
        return routes
    }

    private func readiness() async throws -> EditedResponse<Readiness> {
        let connected = client.isConnected
        let reachable = await influx.ping()
        let lastError = await writer.currentError
        let pending = await writer.pendingLines
        let spool = writer.spoolDepth
        let subscribed = status.isSubscribed
        let refusal = refusals.currentState()
        let ready = connected && subscribed && reachable && lastError == nil && !refusal.refusing
        let body = Readiness(
            status: ready ? "ready" : "degraded", mqtt: .init(connected: connected, subscribed: subscribed),
            influxdb: .init(
                reachable: reachable, lastError: lastError?.description, refusing: refusal.refusing,
                refusedLinesRecent: refusal.recentLines, lastRefusal: refusal.lastReason,
                lastRefusalAt: refusal.lastAt.map(RFC3339.format)),
            spool: .init(readings: spool?.lines ?? 0, batches: spool?.records ?? 0, bytes: spool?.bytes ?? 0),
            pendingReadings: pending)
        return EditedResponse(status: ready ? .ok : .serviceUnavailable, response: body)
    }
}
