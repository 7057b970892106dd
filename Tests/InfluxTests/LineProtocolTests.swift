import NIOCore
import Testing

@testable import Influx

@Suite struct LineProtocolTests {
    @Test func encodesAllFieldTypes() throws {
        let point = Point(
            measurement: "sensors", tags: [(key: "device_id", value: "s1"), (key: "a", value: "b")],
            fields: [
                (key: "t", value: .float(25.3)), (key: "whole", value: .float(3)), (key: "n", value: .integer(-7)),
                (key: "u", value: .unsigned(7)), (key: "ok", value: .boolean(true)), (key: "s", value: .string("hi")),
            ],
            timestamp: 1_763_375_400_000_000_001)
        #expect(
            try LineProtocol.line(point)
                == "sensors,a=b,device_id=s1 t=25.3,whole=3,n=-7i,u=7u,ok=true,s=\"hi\" 1763375400000000001\n")
    }

    @Test func escapesEveryPart() throws {
        let point = Point(
            measurement: "my meas,urement=x",
            tags: [(key: "tag key,=", value: "va lue,=\"\\x")],
            fields: [(key: "field key,=", value: .string("say \"hi\" \\ ok"))])
        let expected =
            #"my\ meas\,urement=x,tag\ key\,\==va\ lue\,\="\x"#
            + #" field\ key\,\=="say \"hi\" \\ ok""# + "\n"
        #expect(try LineProtocol.line(point) == expected)
    }

    @Test func refusesLineBreaksEverywhere() {
        let cases: [Point] = [
            Point(measurement: "a\nb", fields: [(key: "f", value: .integer(1))]),
            Point(measurement: "m", tags: [(key: "k", value: "v\n")], fields: [(key: "f", value: .integer(1))]),
            Point(measurement: "m", tags: [(key: "k\r", value: "v")], fields: [(key: "f", value: .integer(1))]),
            Point(measurement: "m", fields: [(key: "f\n", value: .integer(1))]),
            Point(measurement: "m", fields: [(key: "f", value: .string("line1\nline2"))]),
        ]
        for point in cases {
            var buffer = ByteBuffer(string: "keep\n")
            #expect(throws: LineProtocolError.self) { try LineProtocol.encode(point, into: &buffer) }
            #expect(String(buffer: buffer) == "keep\n", "a refused point leaves no partial line")
        }
    }

    @Test func refusesWhatInfluxCannotStore() {
        #expect(throws: LineProtocolError.self) {
            try LineProtocol.line(Point(measurement: "m", fields: [(key: "f", value: .float(.nan))]))
        }
        #expect(throws: LineProtocolError.self) { try LineProtocol.line(Point(measurement: "m", fields: [])) }
        #expect(throws: LineProtocolError.self) {
            try LineProtocol.line(Point(measurement: "", fields: [(key: "f", value: .integer(1))]))
        }
        #expect(throws: LineProtocolError.self) {
            try LineProtocol.line(
                Point(measurement: "m", tags: [(key: "k", value: "ends\\")], fields: [(key: "f", value: .integer(1))]))
        }
    }

    @Test func omitsEmptyTagValues() throws {
        let point = Point(measurement: "m", tags: [(key: "k", value: "")], fields: [(key: "f", value: .integer(1))])
        #expect(try LineProtocol.line(point) == "m f=1i\n")
    }

    @Test func parsesPartialWriteErrors() {
        let message =
            "partial write: unable to parse 'sensors,device_id=x temperature=': missing field value\nunable to parse 'bad': missing fields dropped=2"
        #expect(
            BadLine.parse(errorMessage: message) == [
                BadLine(line: "sensors,device_id=x temperature=", reason: "missing field value"),
                BadLine(line: "bad", reason: "missing fields"),
            ])
    }
}

@Suite struct InfluxDurationTests {
    @Test func parsesInfluxQLDurations() {
        #expect(InfluxDuration.nanoseconds("30d") == Int64(2_592_000_000_000_000))
        #expect(InfluxDuration.nanoseconds("1h30m") == Int64(5_400_000_000_000))
        #expect(InfluxDuration.nanoseconds("2w") == Int64(1_209_600_000_000_000))
        #expect(InfluxDuration.nanoseconds("15ms") == Int64(15_000_000))
        #expect(InfluxDuration.nanoseconds("INF") == nil)
        #expect(InfluxDuration.nanoseconds("30") == nil)
        #expect(InfluxDuration.nanoseconds("d") == nil)
        #expect(InfluxDuration.nanoseconds("3x") == nil)
        // Longer than an Int64 of nanoseconds holds: not a duration, never a trap.
        #expect(InfluxDuration.nanoseconds("110000d") == nil)
        #expect(InfluxDuration.nanoseconds("99999999999999999999s") == nil)
        #expect(InfluxDuration.nanoseconds("16000w") == nil)
    }

    @Test func retentionsAreAtLeastAnHourAndZeroIsForever() {
        #expect(InfluxConfiguration.Retention("0s") == .forever)
        #expect(InfluxConfiguration.Retention("INF") == .forever)
        #expect(InfluxConfiguration.Retention("30m") == nil, "InfluxDB refuses a policy shorter than 1h")
        #expect(InfluxConfiguration.Retention("1h")?.nanoseconds == 3_600_000_000_000)
        #expect(InfluxConfiguration.Retention("110000d") == nil)
    }

    @Test func formatsDurationsAsInfluxDBPrintsThem() {
        let second: Int64 = 1_000_000_000
        #expect(InfluxDuration.format(300 * second) == "5m")
        #expect(InfluxDuration.format(60 * second) == "1m")
        #expect(InfluxDuration.format(90 * second) == "90s")
        #expect(InfluxDuration.format(7 * 86_400 * second) == "1w")
        #expect(InfluxDuration.format(2 * 86_400 * second) == "2d")
        #expect(InfluxDuration.format(1_500_000) == "1500u")
        #expect(InfluxDuration.format(7) == "7ns")
        for text in ["1m", "5m", "90s", "1h", "2d", "3w", "250ms"] {
            #expect(InfluxDuration.format(InfluxDuration.nanoseconds(text)!) == text)
        }
    }

    @Test func countsDroppedPoints() {
        #expect(BadLine.droppedCount(in: "partial write: points beyond retention policy dropped=17") == 17)
        #expect(BadLine.droppedCount(in: "unable to parse") == nil)
    }
}

@Suite struct LineProtocolPieceTests {
    @Test func decimalsWithoutStrings() {
        for value: Int64 in [0, 7, -7, 10, 1_700_000_000_123_456_789, .max, .min, -1_000_000] {
            var buffer = ByteBuffer()
            LineProtocol.writeDecimal(value, into: &buffer)
            #expect(String(buffer: buffer) == String(value))
        }
    }

    @Test func floatsRoundTripInTheirShortestForm() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        for index in 0..<20_000 {
            let places = Double([1, 10, 100, 1_000, 1e6, 1e9][index % 6])
            var value = Double(Int64(next() % 2_000_000_000) - 1_000_000_000) / places
            if index % 7 == 0 { value = Double(bitPattern: next() >> 2) }  // any double
            if index % 11 == 0 { value = 0.1 + Double(index) * 0.2 }  // inexact sums
            guard value.isFinite else { continue }
            var buffer = ByteBuffer()
            try LineProtocol.writeFloatValue(value, field: "f", into: &buffer)
            let text = String(buffer: buffer)
            #expect(Double(text) == value, "\(value) written as \(text)")
            // Never longer than Swift's own shortest form (when that has no exponent; Swift
            // writes ".0" for whole numbers).
            if !value.description.contains("e") {
                #expect(text.count <= value.description.count, "\(value) written as \(text)")
            }
        }
        var buffer = ByteBuffer()
        for value in [0.05, -0.5, 21.25, -1234.000001, 3.0] {
            try LineProtocol.writeFloatValue(value, field: "f", into: &buffer)
            buffer.writeString(" ")
        }
        #expect(String(buffer: buffer) == "0.05 -0.5 21.25 -1234.000001 3 ")
    }

    @Test func floatValuesRefuseWhatInfluxCannotStore() throws {
        var buffer = ByteBuffer()
        try LineProtocol.writeFloatValue(21.5, field: "temperature", into: &buffer)
        #expect(String(buffer: buffer) == "21.5")
        #expect(throws: LineProtocolError.self) {
            try LineProtocol.writeFloatValue(.infinity, field: "temperature", into: &buffer)
        }
    }
}

/// A query's error is told apart by InfluxDB 1.x's words (as its source spells them).
@Suite struct QueryErrorTests {
    func kind(_ message: String) -> String {
        switch InfluxError.answering(query: message) {
        case .databaseNotFound: "missing"
        case .overLimit(_, .busy): "busy"
        case .overLimit(_, .range): "range"
        case .overLimit(_, .points): "points"
        case .query: "query"
        case .unavailable, .rejected: "other"
        }
    }

    @Test func limitsAreToldApartFromMistakes() {
        #expect(kind("max-concurrent-queries limit exceeded(4, 4)") == "busy")
        #expect(kind("query-timeout limit exceeded") == "range")
        #expect(kind("max-select-point limit exceeed: (6/5)") == "range")
        #expect(kind("max-select-series limit exceeded: (2/1)") == "range")
        #expect(kind("max-select-buckets limit exceeded: (61/10)") == "points")
        #expect(kind("database not found: moby") == "missing")
        #expect(kind("error parsing query: found EOF, expected FROM at line 1, char 9") == "query")
        #expect(InfluxError.answering(query: "max-concurrent-queries limit exceeded(4, 4)").isRetryable)
        #expect(!InfluxError.answering(query: "max-select-point limit exceeed: (6/5)").isRetryable)
    }
}
