import Hummingbird
import Influx
import MobyCore

/// `GET /api/v1/readings?device=…&metric=…&from=…&to=…&points=…`: one device's time series for
/// charts, downsampled in InfluxDB (`GROUP BY time(…)`, means; the counter's last value) so a
/// week of 1 Hz data arrives as a few hundred points. Ranges of a day or more, or reaching back
/// past the raw retention, read the long-term tier (`tier` in the answer says which).
struct ReadingsController<Context: RequestContext>: Sendable {
    let influx: InfluxClient

    /// Where a series is read from.
    enum Tier: String, Codable, Sendable {
        case raw
        case longTerm = "long_term"
    }

    struct ReadingSeries: ResponseEncodable {
        var deviceID: String
        var from: String
        var to: String
        var intervalSeconds: Int64
        var tier: Tier
        var columns: [String]
        /// Rows of `[time, value…]`; a metric without data in a bucket is null.
        var values: [[Double?]]
        var times: [String]

        enum CodingKeys: String, CodingKey {
            case from, to, tier, columns, values, times
            case deviceID = "device_id"
            case intervalSeconds = "interval_seconds"
        }
    }

    static var fields: [String] { Metric.allCases.map(\.name) + ["anomaly_score"] }
    static var nanosecondsPerDay: Int64 { 86_400 * 1_000_000_000 }
    /// Without `from`: the last hour.
    static var defaultSpan: Int64 { 3_600 * 1_000_000_000 }
    /// The longest range one request may ask for (100 years; InfluxDB's whole range is 584).
    static var maxSpan: Int64 { 36_525 * nanosecondsPerDay }
    /// Ranges this long or longer read the long-term tier when there is one (a day of one device
    /// is 86,400 raw points: about 200 ms of InfluxDB against 12 ms from the tier, measured by
    /// `make bench-dashboards`).
    static var longTermFrom: Int64 { nanosecondsPerDay }

    /// The tier for a range and its bucket size in seconds: raw unless the range is at least
    /// `longTermFrom` or starts before the oldest raw point (`now - retention`); long-term
    /// buckets are whole multiples of the tier's interval.
    static func plan(from: Int64, span: Int64, points: Int, now: Int64, configuration: InfluxConfiguration)
        -> (Tier, Int64)
    {
        // Rounded up, so a range never comes back as more than `points` buckets (599 s in 300
        // points are 2 s buckets, not 599 of 1 s).
        let perBucket = Int64(points) * 1_000_000_000
        let bucket = max(1, span / perBucket + (span % perBucket == 0 ? 0 : 1))
        guard case .v1 = configuration.api, let tier = configuration.downsampling else { return (.raw, bucket) }
        let rawStart = configuration.retention.nanoseconds.map { clampedTime(now, minus: $0) } ?? RFC3339.earliest
        guard span >= longTermFrom || from < rawStart else { return (.raw, bucket) }
        let step = max(1, tier.intervalNanoseconds / 1_000_000_000)
        return (.longTerm, (bucket + step - 1) / step * step)
    }

    /// `time - span`, no earlier than InfluxDB's earliest time (and never trapping).
    static func clampedTime(_ time: Int64, minus span: Int64) -> Int64 {
        let (start, overflow) = time.subtractingReportingOverflow(span)
        return overflow ? RFC3339.earliest : max(RFC3339.earliest, start)
    }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/api/v1/readings") { request, _ in try await series(request) }
        return routes
    }

    private func series(_ request: Request) async throws -> ReadingSeries {
        var parameters = QueryParameters(request)
        let device = parameters.deviceID("device")
        if device == nil, parameters.string("device") == nil {
            parameters.add(FieldError(field: "device", message: "required"))
        }
        var metrics = parameters.list("metric", { Self.fields.contains($0) ? $0 : nil }, allowed: Self.fields)
        if metrics.isEmpty { metrics = Self.fields }
        let to = parameters.time("to") ?? WallClock.nanoseconds()
        // Times are inside InfluxDB's range, but their difference need not fit 64 bits.
        let from = parameters.time("from") ?? Self.clampedTime(to, minus: Self.defaultSpan)
        let points = parameters.int("points", default: 300, in: 1...10_000)
        let (span, overflow) = to.subtractingReportingOverflow(from)
        if to <= from {
            parameters.add(FieldError(field: "from", message: "must be before 'to'"))
        } else if overflow || span > Self.maxSpan {
            parameters.add(
                FieldError(
                    field: "from",
                    message:
                        "the range from 'from' to 'to' must be at most \(Self.maxSpan / Self.nanosecondsPerDay) days"
                ))
        }
        try parameters.check()
        guard let device else { throw APIError(.badRequest, "device is required") }
        let configuration = influx.configuration
        let (tier, interval) = Self.plan(
            from: from, span: span, points: points, now: WallClock.nanoseconds(), configuration: configuration)
        let selections = metrics.map { name in
            let column = InfluxClient.quoteIdentifier(name)
            let isCounter = name == Metric.cycleCount.name
            switch tier {
            case .raw:
                return (isCounter ? "last(\(column))" : "mean(\(column))") + " AS \(column)"
            case .longTerm:
                // The tier holds mean_/min_/max_ of each field per interval.
                let source = InfluxClient.quoteIdentifier((isCounter ? "max_" : "mean_") + name)
                return (isCounter ? "last(\(source))" : "mean(\(source))") + " AS \(column)"
            }
        }
        let policy = tier == .longTerm ? configuration.downsampling?.retentionPolicy : nil
        let measurement =
            InfluxClient.quoteIdentifier(policy ?? configuration.retentionPolicy) + "."
            + InfluxClient.quoteIdentifier(Reading.measurement)
        let statement =
            "SELECT \(selections.joined(separator: ", ")) FROM \(measurement) WHERE \"device_id\" = "
            + "\(InfluxClient.quoteString(device)) AND time >= \(from) AND time < \(to) "
            + "GROUP BY time(\(interval)s) fill(none)"
        let results: [QueryResult]
        do {
            results = try await influx.query(statement)
        } catch .databaseNotFound {
            // Nothing was ever written: no data, not an error.
            results = []
        } catch .overLimit(let message, .busy) {
            var busy = APIError(.serviceUnavailable, "InfluxDB is too busy to answer (\(message)); try again shortly")
            busy.headers[.retryAfter] = "1"
            throw busy
        } catch .overLimit(let message, let limit) {
            // The request is valid, but more than this InfluxDB is set to answer in one query.
            let (field, advice) =
                limit == .points ? ("points", "ask for fewer points") : ("from", "ask for a shorter range")
            throw APIError(
                .unprocessableContent, "more than InfluxDB's limits allow in one query",
                errors: [FieldError(field: field, message: "over InfluxDB's limits (\(message)): \(advice)")])
        } catch {
            // Inputs are validated above, so only an outage should get here; anything else is a
            // bug of ours (500), not the caller's fault.
            throw APIError(
                error.isRetryable ? .serviceUnavailable : .internalServerError, "InfluxDB query failed: \(error)")
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
            tier: tier, columns: metrics, values: values, times: times)
    }
}
