import Testing

@testable import MobyCore

@Suite struct RFC3339Tests {
    @Test func parsesTheSeedTimestamp() {
        #expect(RFC3339.parse("2025-11-17T10:30:00Z") == 1_763_375_400_000_000_000)
    }

    @Test func keepsNanoseconds() {
        #expect(RFC3339.parse("2025-11-17T10:30:00.123456789Z") == 1_763_375_400_123_456_789)
        #expect(RFC3339.parse("2025-11-17T10:30:00.1Z") == 1_763_375_400_100_000_000)
        #expect(RFC3339.parse("2025-11-17T10:30:00.000000001Z") == 1_763_375_400_000_000_001)
        // Beyond nanoseconds: truncated, not rounded into the next second.
        #expect(RFC3339.parse("2025-11-17T10:30:00.9999999999Z") == 1_763_375_400_999_999_999)
    }

    @Test func appliesOffsets() {
        #expect(RFC3339.parse("2025-11-17T19:30:00+09:00") == RFC3339.parse("2025-11-17T10:30:00Z"))
        #expect(RFC3339.parse("2025-11-17T05:00:00-05:30") == RFC3339.parse("2025-11-17T10:30:00Z"))
        #expect(RFC3339.parse("2025-11-17t10:30:00z") == RFC3339.parse("2025-11-17T10:30:00Z"))
        #expect(RFC3339.parse("2025-11-17 10:30:00Z") == RFC3339.parse("2025-11-17T10:30:00Z"))
    }

    @Test func handlesCalendarEdges() {
        #expect(RFC3339.parse("1970-01-01T00:00:00Z") == 0)
        #expect(RFC3339.parse("1969-12-31T23:59:59Z") == -1_000_000_000)
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
        #expect(RFC3339.parse("2023-02-29T00:00:00Z") == nil)
        #expect(RFC3339.parse("2000-02-29T00:00:00Z") != nil)
        #expect(RFC3339.parse("1900-02-29T00:00:00Z") == nil)
    }

    @Test func theWholeRangeOfInfluxDBRoundTrips() {
        // The earliest instant has whole seconds that alone do not fit Int64 nanoseconds.
        #expect(RFC3339.parse(RFC3339.format(RFC3339.earliest)) == RFC3339.earliest)
        #expect(RFC3339.parse(RFC3339.format(RFC3339.latest)) == RFC3339.latest)
        #expect(RFC3339.parse("1677-09-21T00:12:43.145224193Z") == nil)
        #expect(RFC3339.parse("2262-04-11T23:47:16.854775807Z") == nil)
        #expect(RFC3339.parse("1677-09-21T00:12:44Z") == RFC3339.earliest + (1_000_000_000 - 145_224_194))
    }

    @Test(arguments: [
        "", "2025-11-17", "2025-11-17T10:30:00", "2025-13-01T00:00:00Z", "2025-11-31T00:00:00Z",
        "2025-11-17T24:00:00Z", "2025-11-17T10:60:00Z", "2025-11-17T10:30:00.Z", "2025-11-17T10:30:00+0900",
        "2025-11-17T10:30:00Zjunk", "2025/11/17T10:30:00Z", "9999-12-31T23:59:59Z", "1000-01-01T00:00:00Z",
        "２025-11-17T10:30:00Z",
    ])
    func rejects(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func formatsAndRoundTrips() {
        #expect(RFC3339.format(1_763_375_400_000_000_000) == "2025-11-17T10:30:00Z")
        #expect(RFC3339.format(1_763_375_400_120_000_000) == "2025-11-17T10:30:00.12Z")
        #expect(RFC3339.format(-1) == "1969-12-31T23:59:59.999999999Z")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let value = Int64.random(in: -2_000_000_000_000_000_000...9_000_000_000_000_000_000, using: &generator)
            #expect(RFC3339.parse(RFC3339.format(value)) == value)
        }
    }
}
