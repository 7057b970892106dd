import Foundation
import Hummingbird
import HummingbirdTesting
import Influx
import MobyCore
import MobyTestSupport
import NIOCore
import Testing

@testable import MobyServer

/// `/api/v1/readings` reads the long-term tier for long ranges and for ranges that reach back
/// past the raw retention, and the raw points otherwise.
@Suite(.serialized, .timeLimit(.minutes(2))) struct LongTermReadingsTests {
    static let second: Int64 = 1_000_000_000
    static let day: Int64 = 86_400 * second

    static func configuration(downsampling: Bool = true, retention: String = "30d") -> InfluxConfiguration {
        InfluxConfiguration(
            url: URL(string: "http://127.0.0.1:1")!, retention: .init(retention)!,
            downsampling: downsampling ? .init(retention: .init("365d")!, interval: "1m") : nil)
    }

    @Test func theTierFollowsTheRangeAndTheRawRetention() {
        let now: Int64 = 1_800_000_000 * Self.second
        let plan = { (from: Int64, points: Int, configuration: InfluxConfiguration) in
            ReadingsController<BasicRequestContext>.plan(
                from: from, span: now - from, points: points, now: now, configuration: configuration)
        }
        let tiered = Self.configuration()
        // An hour and just under a day: raw, buckets as asked.
        #expect(plan(now - 3_600 * Self.second, 300, tiered) == (.raw, 12))
        // Never more buckets than points asked for: 599 s in 300 points are 2 s buckets.
        #expect(plan(now - 599 * Self.second, 300, tiered) == (.raw, 2))
        #expect(plan(now - Self.day + 300 * Self.second, 300, tiered) == (.raw, 287))
        // A day: long-term, buckets rounded up to whole minutes.
        #expect(plan(now - Self.day, 300, tiered) == (.longTerm, 300))
        // A week: long-term, buckets rounded up to whole minutes.
        #expect(plan(now - 7 * Self.day, 300, tiered) == (.longTerm, 2_040))
        // Many points over two days: never finer than the tier's minute.
        #expect(plan(now - 2 * Self.day, 10_000, tiered) == (.longTerm, 60))
        // An hour that raw data no longer covers (retention 1h, a range from 3 h ago).
        let shortRaw = Self.configuration(retention: "1h")
        #expect(plan(now - 3 * 3_600 * Self.second, 180, shortRaw) == (.longTerm, 60))
        // Without a tier, or through the v2 API (no continuous query there): always raw.
        #expect(plan(now - 7 * Self.day, 300, Self.configuration(downsampling: false)) == (.raw, 2_016))
        var v2 = tiered
        v2.api = .v2(org: "o", bucket: "b", token: "t")
        #expect(plan(now - 7 * Self.day, 300, v2) == (.raw, 2_016))
    }

    struct Series: Decodable {
        var tier: String
        var columns: [String]
        var values: [[Double?]]
        var intervalSeconds: Int64

        enum CodingKeys: String, CodingKey {
            case tier, columns, values
            case intervalSeconds = "interval_seconds"
        }
    }

    @Test func aWeekIsReadFromTheLongTermTierAndAnHourFromRawPoints() async throws {
        try await PipelineFixture.with { fixture in
            let configuration = try fixture.configuration()
            let influx = InfluxClient(configuration: configuration.influx)
            try await influx.ensureDatabase()
            #expect(try await influx.ensureDownsampling(of: "sensors") == .created)
            // Three days ago: an hour of long-term points (as the continuous query writes them);
            // a minute ago: raw points with other values, so the answer shows where it came from.
            let now = WallClock.nanoseconds() / Self.second * Self.second
            let old = (now - 3 * Self.day) / Self.day * Self.day
            var longTerm = ""
            for minute in 0..<60 {
                let time = old + Int64(minute) * 60 * Self.second
                longTerm +=
                    "sensors,device_id=press-7 mean_temperature=40,min_temperature=39,max_temperature=41,"
                    + "mean_cycle_count=\(minute),min_cycle_count=\(minute)i,max_cycle_count=\(minute)i \(time)\n"
            }
            let tier = InfluxClient(
                configuration: InfluxConfiguration(
                    url: fixture.influx.baseURL, database: fixture.database, retentionPolicy: "long_term"))
            try await tier.write(ByteBuffer(string: longTerm))
            try await fixture.influxClient.write(
                ByteBuffer(
                    string: "sensors,device_id=press-7 temperature=25,cycle_count=99i \(now - 60 * Self.second)\n"))

            let app = try await buildApplication(configuration: configuration, logger: testLogger())
            try await app.test(.router) { client in
                func series(_ from: Int64) async throws -> Series {
                    try await client.execute(
                        uri:
                            "/api/v1/readings?device=press-7&metric=temperature,cycle_count&from=\(RFC3339.format(from))"
                            + "&to=\(RFC3339.format(now))&points=100",
                        method: .get
                    ) { response in
                        #expect(response.status == .ok)
                        return try JSONDecoder().decode(Series.self, from: Data(response.body.readableBytesView))
                    }
                }
                let week = try await series(now - 7 * Self.day)
                #expect(week.tier == "long_term")
                #expect(week.intervalSeconds % 60 == 0)
                #expect(week.columns == ["temperature", "cycle_count"])
                // The whole hour falls into one or two buckets of ~100 minutes: means of 40 °C, the
                // counter's last value 59; the minute-old raw point is not in the tier yet.
                #expect(!week.values.isEmpty && week.values.allSatisfy { $0[0] == 40 })
                #expect(week.values.last?[1] == 59)
                let hour = try await series(now - 3_600 * Self.second)
                #expect(hour.tier == "raw")
                #expect(hour.values.map { $0[0] } == [25])
                #expect(hour.values.map { $0[1] } == [99])
            }
        }
    }

    @Test func theServerSetsUpBothTiersAtStartAndAgainAfterARestart() async throws {
        try await PipelineFixture.with { fixture in
            let configuration = try fixture.configuration()
            for start in 1...2 {
                let app = try await buildApplication(configuration: configuration, logger: testLogger())
                try await app.test(.live) { client in
                    // No reading is sent: the server sets InfluxDB up by itself.
                    let queries = try await eventuallyValue("the continuous query after start \(start)") {
                        () async throws -> [String]? in
                        let shown = try? await fixture.influxClient.query("SHOW CONTINUOUS QUERIES")
                        let names = (shown ?? []).flatMap(\.series).filter { $0.name == fixture.database }
                            .flatMap(\.rows).compactMap { $0["name"]?.string }
                        return names.isEmpty ? nil : names
                    }
                    #expect(queries == ["sensors_long_term"])
                    let policies = try await fixture.influxClient.query("SHOW RETENTION POLICIES")
                    let names = Set(policies.first?.series.first?.rows.compactMap { $0["name"]?.string } ?? [])
                    #expect(names.isSuperset(of: ["raw", "long_term"]), "\(names)")
                }
            }
        }
    }

    @Test func aLongRangeBeforeAnyWriteIsEmptyNotAnError() async throws {
        try await PipelineFixture.with { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.router) { client in
                // No database and no long-term policy yet: no data, not a 500.
                let uri =
                    "/api/v1/readings?device=press-7&from=\(RFC3339.format(WallClock.nanoseconds() - 7 * Self.day))"
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                    let series = try JSONDecoder().decode(Series.self, from: Data(response.body.readableBytesView))
                    #expect(series.tier == "long_term" && series.values.isEmpty)
                }
                let influx = fixture.influxClient
                try await influx.ensureDatabase()  // the database, but no long-term policy
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    @Test func aSchemaInfluxDBRefusesHoldsReadingsInsteadOfRefusingThem() async throws {
        try await PipelineFixture.with { fixture in
            // The database made with 30-day raw retention (1-day shards), then the server set to
            // 12 h: InfluxDB refuses to shorten a policy below its shard duration.
            let first = InfluxClient(configuration: try fixture.configuration().influx)
            try await first.ensureDatabase()
            let configuration = try fixture.configuration(["moby.influx.retention": "12h"])
            let store = ReadingStore(client: InfluxClient(configuration: configuration.influx), logger: testLogger())
            let line = "sensors,device_id=press-9 temperature=20 \(WallClock.nanoseconds())\n"
            do throws(InfluxError) {
                try await store.write(ByteBuffer(string: line))
                Issue.record("the write went through a schema InfluxDB refused")
            } catch {
                // Unavailable: the writer holds or spools the batch; a refusal would dead-letter it.
                guard case .unavailable(let reason, _) = error else {
                    Issue.record("not unavailable: \(error)")
                    return
                }
                #expect(reason.contains("shard duration"), "\(reason)")
                #expect(error.isRetryable)
            }
        }
    }
}
