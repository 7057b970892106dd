import Testing

@testable import MobyCore

@Suite struct JSONParserTests {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func parsesTheSeedExample() throws {
        let value = try parse(
            #"{"device_id":"sensor_001","temperature":25.3,"humidity":60.5,"vibration":0.12,"sound":45.8,"timestamp":"2025-11-17T10:30:00Z"}"#
        )
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.0) == ["device_id", "temperature", "humidity", "vibration", "sound", "timestamp"])
        #expect(members[1].1 == .number(25.3, integer: nil))
        #expect(members[0].1 == .string("sensor_001"))
    }

    @Test func keepsIntegersExact() throws {
        #expect(
            try parse("9007199254740993")
                == .number(Double(9_007_199_254_740_993 as Int64), integer: 9_007_199_254_740_993))
        #expect(try parse("-0") == .number(-0.0, integer: 0))
        #expect(try parse("1e3") == .number(1000, integer: nil))
        #expect(try parse("1.5E-2") == .number(0.015, integer: nil))
    }

    @Test func decodesEscapes() throws {
        #expect(try parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\n\té😀"))
    }

    @Test func parsesNesting() throws {
        #expect(
            try parse(#" { "a" : [1, true, null, {"b": false}] } "#)
                == .object([
                    ("a", .array([.number(1, integer: 1), .bool(true), .null, .object([("b", .bool(false))])]))
                ]))
    }

    @Test(arguments: [
        "", "{", "}", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a:1}", "01", "1.", "1e", "-", "+1", "tru", "nul",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\u{1}\"", "{} {}", "NaN", "1e400", "[1 2]",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func limitsDepth() throws {
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        #expect(throws: JSONSyntaxError.self) { try parse(deep) }
        let fine = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        _ = try parse(fine)
    }

    @Test func reportsTheOffset() {
        do throws(JSONSyntaxError) {
            _ = try JSONParser.parse(Array(#"{"a": 1, "b": x}"#.utf8))
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 14)
        }
    }

    @Test func randomBytesNeverCrash() {
        // Seeded, so a failure repeats.
        var generator = SplitMix64(seed: 0x4A50)
        let alphabet = Array(#"{}[]",:0123456789.eE-+truefalsn\u "#.utf8)
        var parsed = 0
        var refused = 0
        for _ in 0..<5_000 {
            let length = Int.random(in: 0..<40, using: &generator)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            do {
                _ = try JSONParser.parse(bytes)
                parsed += 1
            } catch {
                refused += 1
                // An error points into the input (or just past its end).
                #expect(error.offset >= 0 && error.offset <= bytes.count, "\(error) for \(bytes)")
            }
        }
        #expect(parsed > 0 && refused > 0, "parsed \(parsed), refused \(refused)")
    }
}
