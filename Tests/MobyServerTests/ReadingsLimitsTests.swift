import Foundation
import Hummingbird
import HummingbirdTesting
import Influx
import MobyCore
import MobyTestSupport
import NIOCore
import Testing

@testable import MobyServer

/// `/api/v1/readings` against an InfluxDB set up with query limits: a range more than its limits
/// allow is the caller's to narrow (422 naming the field), never a 500 and never a chart cut
/// short without a word.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ReadingsLimitsTests {
    struct Problem: Decodable {
        var error: String
        var errors: [FieldError]?
    }

    /// Writes 20 readings a second apart, ending now, and asks for the last minute in `points`.
    func askForTheLastMinute(
        _ fixture: PipelineFixture, points: Int
    ) async throws -> (HTTPResponse.Status, Problem?) {
        let configuration = try fixture.configuration()
        let influx = InfluxClient(configuration: configuration.influx)
        try await influx.ensureDatabase()
        let now = WallClock.nanoseconds() / 1_000_000_000 * 1_000_000_000
        let lines = (0..<20).map {
            "sensors,device_id=press-7 temperature=\(20 + $0) \(now - Int64(20 - $0) * 1_000_000_000)"
        }
        try await fixture.influxClient.write(ByteBuffer(string: lines.joined(separator: "\n") + "\n"))
        let app = try await buildApplication(configuration: configuration, logger: testLogger())
        return try await app.test(.router) { client in
            try await client.execute(
                uri:
                    "/api/v1/readings?device=press-7&metric=temperature&from=\(RFC3339.format(now - 60_000_000_000))"
                    + "&to=\(RFC3339.format(now + 1_000_000_000))&points=\(points)",
                method: .get
            ) { response in
                (
                    response.status,
                    response.status == .ok
                        ? nil : try JSONDecoder().decode(Problem.self, from: Data(response.body.readableBytesView))
                )
            }
        }
    }

    /// Too many buckets (`max-select-buckets`, checked when InfluxDB plans the query;
    /// `max-select-point` is checked only by a monitor that samples running queries, too late for
    /// a test's small query), and an answer InfluxDB cut short at `max-row-limit`, which must not
    /// be shown as whole. Within the limit, the same readings are answered.
    @Test(arguments: [
        ("coordinator", "max-select-buckets = 10", "max-select-buckets", 5),
        ("http", "max-row-limit = 5", "max-row-limit", 4),
    ])
    func tooManyPointsForInfluxDBsLimitsAreTheCallersToNarrow(
        section: String, setting: String, limit: String, withinIt: Int
    ) async throws {
        try await PipelineFixture.with(influxSettings: [section: [setting]]) { fixture in
            let (status, problem) = try await askForTheLastMinute(fixture, points: 60)
            #expect(status == .unprocessableContent)
            let field = try #require(problem?.errors?.first, "\(String(describing: problem))")
            #expect(field.field == "points")
            #expect(field.message.contains(limit) && field.message.contains("fewer points"), "\(field)")
            let (fewer, _) = try await askForTheLastMinute(fixture, points: withinIt)
            #expect(fewer == .ok)
        }
    }
}
