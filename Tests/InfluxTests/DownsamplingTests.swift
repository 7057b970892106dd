import Foundation
import Influx
import MobyTestSupport
import NIOCore
import Testing

/// The long-term tier against a real InfluxDB: the retention policies and the continuous query
/// exist after a start and after another (idempotent), follow a changed configuration, and the
/// query they run folds raw points into the means, minima and maxima expected.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DownsamplingTests {
    static func client(_ influx: TestInflux, interval: String = "1m", retention: String = "365d", off: Bool = false)
        -> InfluxClient
    {
        let tier = InfluxConfiguration.Downsampling(retention: .init(retention)!, interval: interval)!
        return InfluxClient(
            configuration: InfluxConfiguration(
                url: influx.baseURL, database: "plant", retention: .init("30d")!, downsampling: off ? nil : tier))
    }

    static func policies(_ client: InfluxClient) async throws -> [String: String] {
        let rows = try await client.query("SHOW RETENTION POLICIES ON plant").first?.series.first?.rows ?? []
        return Dictionary(
            uniqueKeysWithValues: rows.compactMap { row in
                row["name"]?.string.map { ($0, row["duration"]?.string ?? "") }
            })
    }

    static func continuousQueries(_ client: InfluxClient) async throws -> [String: String] {
        let series = try await client.query("SHOW CONTINUOUS QUERIES").flatMap(\.series).first { $0.name == "plant" }
        return Dictionary(
            uniqueKeysWithValues: (series?.rows ?? []).compactMap { row in
                row["name"]?.string.map { ($0, row["query"]?.string ?? "") }
            })
    }

    @Test func tiersAndTheContinuousQueryAreCreatedOnceAndFollowTheConfiguration() async throws {
        try await TestInflux.with { influx in
            let client = Self.client(influx)
            try await client.ensureDatabase()
            #expect(try await client.ensureDownsampling(of: "sensors") == .created)
            let created = try await Self.policies(client)
            #expect(created["raw"] == "720h0m0s" && created["long_term"] == "8760h0m0s", "\(created)")
            let queries = try await Self.continuousQueries(client)
            let statement = try #require(queries["sensors_long_term"])
            #expect(statement.contains("INTO plant.long_term.sensors FROM plant.raw.sensors"))
            #expect(statement.contains("RESAMPLE EVERY 1m FOR 5m"))
            #expect(statement.contains("GROUP BY time(1m), *"))

            // A second start (or a second server) changes nothing.
            try await client.ensureDatabase()
            #expect(try await Self.client(influx).ensureDownsampling(of: "sensors") == .unchanged)
            #expect(try await Self.continuousQueries(client).count == 1)

            // A new interval and retention replace the query and alter the policy.
            let changed = Self.client(influx, interval: "300s", retention: "730d")
            guard case .replaced(let previous) = try await changed.ensureDownsampling(of: "sensors") else {
                Issue.record("a changed interval did not replace the continuous query")
                return
            }
            #expect(previous == statement)
            #expect(try await Self.policies(client)["long_term"] == "17520h0m0s")
            #expect(
                try await Self.continuousQueries(client)["sensors_long_term"]?.contains("GROUP BY time(5m)") == true)
            #expect(try await changed.ensureDownsampling(of: "sensors") == .unchanged)

            // Off: our query goes, the long-term points stay until their retention ends.
            #expect(try await Self.client(influx, off: true).ensureDownsampling(of: "sensors") == .dropped)
            #expect(try await Self.continuousQueries(client).isEmpty)
            #expect(try await Self.policies(client)["long_term"] != nil)
            #expect(try await Self.client(influx, off: true).ensureDownsampling(of: "sensors") == .unchanged)
        }
    }

    @Test func theContinuousQueryFoldsRawPointsIntoMeansMinimaAndMaxima() async throws {
        try await TestInflux.with { influx in
            let client = Self.client(influx)
            try await client.ensureDatabase()
            try await client.ensureDownsampling(of: "sensors")
            // Two devices, three whole minutes an hour ago, a point every 10 s.
            let minute: Int64 = 60_000_000_000
            let start = (Int64(Date().timeIntervalSince1970) * 1_000_000_000 - 60 * minute) / minute * minute
            var lines = ""
            var expected: [String: [(mean: Double, min: Double, max: Double)]] = [:]
            for device in ["a", "b"] {
                for m in 0..<3 {
                    var values: [Double] = []
                    for s in 0..<6 {
                        let value = Double(m * 10 + s) + (device == "b" ? 100 : 0)
                        values.append(value)
                        let time = start + Int64(m) * minute + Int64(s) * 10_000_000_000
                        lines += "sensors,device_id=\(device) temperature=\(value),cycle_count=\(m * 6 + s)i \(time)\n"
                    }
                    expected[device, default: []].append(
                        (values.reduce(0, +) / Double(values.count), values.min()!, values.max()!))
                }
            }
            try await client.write(ByteBuffer(string: lines))
            // The continuous query runs on interval boundaries for the last few intervals; run its
            // own SELECT … INTO over the test's hour, as a backfill would.
            let statement = client.continuousQuery(for: "sensors", client.configuration.downsampling!)
            let select = try #require(statement.range(of: "BEGIN ").map { statement[$0.upperBound...] })
                .replacingOccurrences(of: " END", with: "")
                .replacingOccurrences(
                    of: " GROUP BY", with: " WHERE time >= \(start) AND time < \(start + 3 * minute) GROUP BY")
            _ = try await client.query(select)
            let result = try await client.query(
                "SELECT mean_temperature, min_temperature, max_temperature, max_cycle_count FROM long_term.sensors "
                    + "GROUP BY device_id")
            let series = result.flatMap(\.series)
            #expect(series.count == 2)
            for device in ["a", "b"] {
                let rows = try #require(series.first { $0.tags?["device_id"] == device }?.rows)
                #expect(rows.count == 3)
                for (row, want) in zip(rows, expected[device]!) {
                    #expect(row["mean_temperature"]?.double == want.mean)
                    #expect(row["min_temperature"]?.double == want.min)
                    #expect(row["max_temperature"]?.double == want.max)
                }
                #expect(rows.last?["max_cycle_count"]?.int == 17)
            }
        }
    }
}
