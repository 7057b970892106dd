import Foundation
import Influx
import MobyTestSupport
import NIOCore
import Testing

@Suite(.serialized, .timeLimit(.minutes(2))) struct InfluxIntegrationTests {
    @Test func createsTheDatabaseAndRetentionPolicy() async throws {
        try await TestInflux.with { influx in
            let client = InfluxClient(
                configuration: InfluxConfiguration(url: influx.baseURL, database: "plant", retention: .init("7d")!))
            try await client.ensureDatabase()
            try await client.ensureDatabase()  // idempotent
            let policies = try await client.query("SHOW RETENTION POLICIES ON plant")
            let raw = try #require(policies.first?.series.first?.rows.first { $0["name"]?.string == "raw" })
            #expect(raw["duration"]?.string == "168h0m0s")
            #expect(raw["default"] == .bool(true))
            // A changed duration is applied on the next start.
            let longer = InfluxClient(
                configuration: InfluxConfiguration(url: influx.baseURL, database: "plant", retention: .init("30d")!))
            try await longer.ensureDatabase()
            let after = try await client.query("SHOW RETENTION POLICIES ON plant")
            #expect(
                after.first?.series.first?.rows.first { $0["name"]?.string == "raw" }?["duration"]?.string == "720h0m0s"
            )
        }
    }

    @Test func overHTTPSItTrustsTheConfiguredCAOnly() async throws {
        let certificates = try TestCertificates.make()
        let influx = try TestInflux(label: "influxd-https", https: certificates)
        try await influx.start()
        defer { influx.stop() }
        let trusting = InfluxClient(
            configuration: InfluxConfiguration(url: influx.baseURL, database: "plant", caFile: certificates.caFile))
        try await trusting.ensureDatabase()
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        try await trusting.write(ByteBuffer(string: "sensors,device_id=a temperature=1 \(now)\n"))
        let count = try await trusting.query("SELECT count(temperature) FROM sensors")
        #expect(count.first?.series.first?.values.first?.last?.int == 1)
        for caFile in [certificates.otherCAFile, nil] {
            let untrusting = InfluxClient(
                // AsyncHTTPClient retries a failed connection until the deadline, then reports why.
                configuration: InfluxConfiguration(
                    url: influx.baseURL, database: "plant", requestTimeout: .seconds(2), caFile: caFile))
            do throws(InfluxError) {
                _ = try await untrusting.query("SHOW DATABASES")
                Issue.record("InfluxDB's certificate was trusted with CA \(caFile ?? "system")")
            } catch {
                #expect(error.isRetryable, "an outage to retry, never a reason to drop readings: \(error)")
                #expect("\(error)".lowercased().contains("certificate"), "\(error)")
            }
        }
    }

    @Test func withUsersOnOnlyTheServersUserGetsIn() async throws {
        try await TestInflux.with(authEnabled: true) { influx in
            let anonymous = InfluxClient(configuration: InfluxConfiguration(url: influx.baseURL, database: "plant"))
            // InfluxDB lets the first user be made without credentials, as scripts/run does.
            _ = try await anonymous.query("CREATE USER \"moby-server\" WITH PASSWORD 's3cret' WITH ALL PRIVILEGES")
            do throws(InfluxError) {
                try await anonymous.ensureDatabase()
                Issue.record("InfluxDB let a client without a user in")
            } catch {
                #expect("\(error)".contains("401") || "\(error)".lowercased().contains("auth"), "\(error)")
            }
            let server = InfluxClient(
                configuration: InfluxConfiguration(
                    url: influx.baseURL, database: "plant",
                    api: .v1(credentials: .init(username: "moby-server", password: "s3cret"))))
            try await server.ensureDatabase()
            let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
            try await server.write(ByteBuffer(string: "sensors,device_id=a temperature=1 \(now)\n"))
            let count = try await server.query("SELECT count(temperature) FROM sensors")
            #expect(count.first?.series.first?.values.first?.last?.int == 1)
            let wrong = InfluxClient(
                configuration: InfluxConfiguration(
                    url: influx.baseURL, database: "plant",
                    api: .v1(credentials: .init(username: "moby-server", password: "wrong"))))
            await #expect(throws: InfluxError.self) { try await wrong.query("SHOW DATABASES") }
        }
    }

    @Test func aMissingDatabaseIsItsOwnErrorForWritesAndQueries() async throws {
        try await TestInflux.with { influx in
            let client = InfluxClient(configuration: InfluxConfiguration(url: influx.baseURL, database: "nowhere"))
            do throws(InfluxError) {
                try await client.write(ByteBuffer(string: "m v=1i 1\n"))
                Issue.record("a write to a missing database succeeded")
            } catch {
                guard case .databaseNotFound = error else {
                    Issue.record("expected databaseNotFound, got \(error)")
                    return
                }
                #expect(error.isRetryable)  // held and retried, never acknowledged
            }
            do throws(InfluxError) {
                _ = try await client.query("SELECT * FROM m")
                Issue.record("a query of a missing database succeeded")
            } catch {
                guard case .databaseNotFound = error else {
                    Issue.record("expected databaseNotFound, got \(error)")
                    return
                }
            }
            // Any other InfluxQL mistake stays a query error.
            try await client.ensureDatabase()
            do throws(InfluxError) {
                _ = try await client.query("SELEKT nonsense")
                Issue.record("a broken statement succeeded")
            } catch {
                guard case .query = error else {
                    Issue.record("expected a query error, got \(error)")
                    return
                }
            }
        }
    }

    @Test func hostileTagValuesRoundTripExactly() async throws {
        try await TestInflux.with { influx in
            let client = InfluxClient(configuration: InfluxConfiguration(url: influx.baseURL))
            try await client.ensureDatabase()
            let ids = [
                "plain", "with space", "comma,here", "equals=sign", "quote\"d", "single'quote", "back\\slash",
                "a\\,b", "trailing space ", " leading", "유니코드-센서", "emoji😀", "mix ,=\"\\ all", "#hash", "x=1,y=2 z",
            ]
            let base = (Int64(Date().timeIntervalSince1970) - 60) * 1_000_000_000
            var body = ByteBuffer()
            for (index, id) in ids.enumerated() {
                try LineProtocol.encode(
                    Point(
                        measurement: "sensors", tags: [(key: "device_id", value: id)],
                        fields: [
                            (key: "temperature", value: .float(Double(index))),
                            (key: "note", value: .string("n\"\\\(id)")),
                        ],
                        timestamp: base + 1_000_000_000 * Int64(index)),
                    into: &body)
            }
            try await client.write(body)
            let results = try await client.query(#"SELECT "temperature", "note", "device_id" FROM "sensors""#)
            let rows = try #require(results.first?.series.first?.rows)
            #expect(rows.count == ids.count)
            for (index, id) in ids.enumerated() {
                let row = rows.first { $0["time"]?.int == base + 1_000_000_000 * Int64(index) }
                #expect(row?["device_id"]?.string == id, "device id \(id)")
                #expect(row?["temperature"]?.double == Double(index))
                #expect(row?["note"]?.string == "n\"\\\(id)")
            }
            // And each id can be selected by an escaped InfluxQL string literal.
            for id in ids {
                let selected = try await client.query(
                    "SELECT count(temperature) FROM sensors WHERE device_id = \(InfluxClient.quoteString(id))")
                #expect(selected.first?.series.first?.values.first?.last?.int == 1, "select \(id)")
            }
        }
    }

    @Test func partialWritesReportTheBadLines() async throws {
        try await TestInflux.with { influx in
            let client = InfluxClient(configuration: InfluxConfiguration(url: influx.baseURL))
            try await client.ensureDatabase()
            try await client.write(ByteBuffer(string: "m,k=a f=1i\n"))
            // f is an integer now; a float for it conflicts, a garbage line does not parse.
            do throws(InfluxError) {
                try await client.write(ByteBuffer(string: "m,k=b f=2i\nm,k=c f=2.5\nnot line protocol\n"))
                Issue.record("expected a rejection")
            } catch {
                guard case .rejected(let status, let message, _) = error else {
                    Issue.record("expected .rejected, got \(error)")
                    return
                }
                #expect(status == 400)
                #expect(!message.isEmpty)
                #expect(!error.isRetryable)
            }
            let count = try await client.query("SELECT count(f) FROM m")
            #expect(count.first?.series.first?.values.first?.last?.int == 2, "the good line was stored")
        }
    }

    @Test func unreachableServerIsRetryable() async throws {
        let port = Loopback.freePort()
        let client = InfluxClient(configuration: InfluxConfiguration(url: URL(string: "http://127.0.0.1:\(port)")!))
        #expect(await client.ping() == false)
        do throws(InfluxError) {
            try await client.write(ByteBuffer(string: "m f=1\n"))
            Issue.record("expected an error")
        } catch {
            #expect(error.isRetryable)
        }
    }

    @Test func missingDatabaseIsHeldNotDropped() async throws {
        try await TestInflux.with { influx in
            let client = InfluxClient(configuration: InfluxConfiguration(url: influx.baseURL, database: "nope"))
            do throws(InfluxError) {
                try await client.write(ByteBuffer(string: "m f=1\n"))
                Issue.record("expected an error")
            } catch {
                #expect(error.isRetryable, "a missing database must not make the writer drop data: \(error)")
            }
        }
    }
}
