import Foundation
import Influx
import MobyTestSupport
import NIOCore
import Testing

/// Values quoted by `InfluxClient.quoteString` / `quoteIdentifier` stay values in a real
/// InfluxDB: quotes, semicolons, regex and comment characters never change the statement.
@Suite(.serialized, .timeLimit(.minutes(2))) struct InfluxQLQuotingTests {
    static let hostile = [
        "a' OR device_id =~ /.*/ OR device_id = 'b", "x'; DROP DATABASE quoting; SELECT * FROM sensors WHERE 'a'='a",
        "/.*/", "a\\' OR '1'='1", "-- comment", "a\" OR 1=1 --", "\\", "'", "sensor;1",
        "sensor\n; DROP SERIES FROM sensors",
    ]

    @Test func hostileStringsAreLiteralValues() async throws {
        try await TestInflux.with { influx in
            let client = InfluxClient(configuration: InfluxConfiguration(url: influx.baseURL, database: "quoting"))
            try await client.ensureDatabase()
            let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
            try await client.write(ByteBuffer(string: "sensors,device_id=press-1 temperature=20 \(now)\n"))
            for value in Self.hostile {
                let statement =
                    "SELECT count(temperature) FROM sensors WHERE device_id = \(InfluxClient.quoteString(value))"
                let results = try await client.query(statement)
                #expect(results.allSatisfy { $0.series.isEmpty }, "'\(value)' matched: \(results)")
            }
            // The escaping is not the reason nothing matched: a plain value matches.
            let plain = try await client.query(
                "SELECT count(temperature) FROM sensors WHERE device_id = \(InfluxClient.quoteString("press-1"))")
            #expect(plain.first?.series.first?.values.first?.last?.int == 1)
            // Quoted identifiers are names, however they look.
            for value in Self.hostile {
                let statement = "SELECT \(InfluxClient.quoteIdentifier(value)) FROM sensors"
                let results = try await client.query(statement)
                #expect(results.allSatisfy { $0.series.isEmpty }, "\(value): \(results)")
            }
            let databases = try await client.query("SHOW DATABASES")
            #expect(databases.first?.series.first?.values.contains { $0.first?.string == "quoting" } == true)
        }
    }
}
