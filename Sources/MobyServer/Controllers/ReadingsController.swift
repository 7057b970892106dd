import Hummingbird
import Influx
import MobyCore

/// `GET /api/v1/readings?device=…&metric=…&from=…&to=…&points=…`: one device's time series for
/// charts, downsampled in InfluxDB (`GROUP BY time(…)`, means; the counter's last value) so a
/// week of 1 Hz data arrives as a few hundred points.
struct ReadingsController<Context: RequestContext>: Sendable {
    let influx: InfluxClient

    struct ReadingSeries: ResponseEncodable {
        var deviceID: String
        var from: String
        var to: String
        var intervalSeconds: Int64
        var columns: [String]
        /// Rows of `[time, value…]`; a metric without data in a bucket is null.
        var values: [[Double?]]
        var times: [String]

        enum CodingKeys: String, CodingKey {
            case from, to, columns, values, times
            case deviceID = "device_id"
            case intervalSeconds = "interval_seconds"
        }
    }

    static var fields: [String] { Metric.allCases.map(\.name) + ["anomaly_score"] }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/api/v1/readings") { request, _ in try await series(request) }
        return routes
    }

    private func series(_ request: Request) async throws -> ReadingSeries {
        var parameters = QueryParameters(request)
        let device = parameters.string("device")
        if device == nil { parameters.add(FieldError(field: "device", message: "required")) }
        var metrics = parameters.list("metric", { Self.fields.contains($0) ? $0 : nil }, allowed: Self.fields)
        if metrics.isEmpty { metrics = Self.fields }
        let now = WallClock.nanoseconds()
        let to = parameters.time("to") ?? now
        let from = parameters.time("from") ?? (to - 3_600 * 1_000_000_000)
        let points = parameters.int("points", default: 300, in: 1...10_000)
        if from >= to { parameters.add(FieldError(field: "from", message: "must be before 'to'")) }
        try parameters.check()
        guard let device else { throw APIError(.badRequest, "device is required") }
        let interval = max(1, (to - from) / Int64(points) / 1_000_000_000)
        let selections = metrics.map { name in
            let column = InfluxClient.quoteIdentifier(name)
            return (name == Metric.cycleCount.name ? "last(\(column))" : "mean(\(column))") + " AS \(column)"
        }
        let measurement =
            InfluxClient.quoteIdentifier(influx.configuration.retentionPolicy) + "."
            + InfluxClient.quoteIdentifier(Reading.measurement)
        let statement =
            "SELECT \(selections.joined(separator: ", ")) FROM \(measurement) WHERE \"device_id\" = "
            + "\(InfluxClient.quoteString(device)) AND time >= \(from) AND time < \(to) "
            + "GROUP BY time(\(interval)s) fill(none)"
        let results: [QueryResult]
        do {
            results = try await influx.query(statement)
        } catch {
            throw APIError(.serviceUnavailable, "InfluxDB query failed: \(error)")
        }
        var times: [String] = []
        var values: [[Double?]] = []
        for series in results.flatMap(\.series) {
            let columns = series.columns
            for row in series.values {
                guard let time = row.first?.int else { continue }
                times.append(RFC3339.format(time))
                values.append(metrics.map { name in columns.firstIndex(of: name).flatMap { row[$0].double } })
            }
        }
        return ReadingSeries(
            deviceID: device, from: RFC3339.format(from), to: RFC3339.format(to), intervalSeconds: interval,
            columns: metrics, values: values, times: times)
    }
}
