import Foundation
import MobyTestSupport
import Testing

@testable import MobyCore

/// The scanner (the decoder's hot path) must accept every ordinary reading and never disagree
/// with the full decoder: whatever it returns, the full decoder returns too.
@Suite struct ReadingScannerTests {
    let decoder: ReadingDecoder
    let now: Int64 = 1_700_000_000_000_000_000

    init() throws {
        decoder = ReadingDecoder(catalog: try SensorCatalog.load(path: TestPaths.catalog))
    }

    func scan(_ json: String, topicDevice: String?) -> Reading? {
        Array(json.utf8).withUnsafeBytes {
            ReadingScanner.scan($0, topicDeviceID: topicDevice, receivedAt: now, catalog: decoder.catalog)
        }
    }

    /// The full decoder alone (document tree, every check), for comparison.
    func fullDecode(_ json: String, topicDevice: String?) -> Result<Reading, ReadingRejection> {
        do {
            let document = try JSONParser.parse(Array(json.utf8))
            return decoder.decode(document, topicDeviceID: topicDevice, receivedAt: now)
        } catch {
            return .failure(ReadingRejection(field: "payload", error.description))
        }
    }

    @Test func acceptsOrdinaryReadingsExactlyAsTheFullDecoder() throws {
        var random = SplitMix64(seed: 7)
        for index in 0..<3_000 {
            let (json, device) = Self.ordinaryReading(&random, index: index, catalog: decoder.catalog)
            let topicDevice = random.next() % 2 == 0 ? device : nil
            let scanned = try #require(scan(json, topicDevice: topicDevice), "scanner refused \(json)")
            #expect(fullDecode(json, topicDevice: topicDevice) == .success(scanned), "\(json)")
        }
    }

    @Test func neverAcceptsWhatTheFullDecoderRefusesOrReadsDifferently() {
        var random = SplitMix64(seed: 11)
        var refusedByBoth = 0
        for index in 0..<5_000 {
            let (valid, device) = Self.ordinaryReading(&random, index: index, catalog: decoder.catalog)
            let json = Self.mutate(valid, &random)
            let topicDevice = random.next() % 3 == 0 ? nil : (random.next() % 5 == 0 ? "other" : device)
            let full = fullDecode(json, topicDevice: topicDevice)
            guard let scanned = scan(json, topicDevice: topicDevice) else {
                if case .failure = full { refusedByBoth += 1 }
                continue
            }
            #expect(full == .success(scanned), "\(json) topic \(topicDevice ?? "-")")
        }
        // The mutations do produce broken readings (the comparison above is not vacuous).
        #expect(refusedByBoth > 1_000)
    }

    @Test func handsHardCasesToTheFullDecoder() {
        let cases = [
            #"{"device_id":"a\u0062","temperature":20}"#,  // escape
            #"{"device_id":"a","temperature":null}"#,  // null
            #"{"device_id":"a","temperature":2e1}"#,  // exponent
            #"{"device_id":"a","temperature":20,"temperature":21}"#,  // duplicate
            #"{"device_id":"a","accel_x":1,"accel":{"x":2}}"#,  // same metric twice
            #"{"device_id":"a\#u{85}b","temperature":20}"#,  // C1 control character
            #"{"device_id":"a+b","temperature":20}"#,  // wildcard
            #"{"device_id":"a","cycle_count":1.5}"#,  // fractional counter
            #"{"device_id":"a","temperature":20,"extra":1}"#,  // unknown key
            #"{"device_id":"a","temperature":1000}"#,  // out of range
            #"{"device_id":"a","temperature":020}"#,  // leading zero
            #"{"device_id":"a"}"#,  // no metric
            #"{"device_id":"a","temperature":20} x"#,  // trailing data
        ]
        for json in cases {
            #expect(scan(json, topicDevice: nil) == nil, "\(json)")
        }
        // A wildcard followed by a combining mark is still a wildcard byte (both decoders).
        let combining = "{\"device_id\":\"a+\u{301}\",\"temperature\":20}"
        #expect(scan(combining, topicDevice: nil) == nil)
        guard case .failure = fullDecode(combining, topicDevice: nil) else {
            Issue.record("a device id with a '+' byte was accepted")
            return
        }
        // A topic id that could not be a device id is refused with a reason, not stored.
        let json = #"{"temperature":20}"#
        #expect(scan(json, topicDevice: "bad\u{7}id") == nil)
        guard case .failure(let rejection) = fullDecode(json, topicDevice: "bad\u{7}id") else {
            Issue.record("a control character in the topic's device id was accepted")
            return
        }
        #expect(rejection.errors.map(\.field) == ["topic"])
    }

    @Test func slotsCoverEveryMetric() {
        // MetricSlots holds 11 values by ordinal.
        #expect(Metric.allCases.count == 11)
        #expect(Metric.allCases.map(\.ordinal) == Array(0..<11))
    }

    // MARK: Generators

    /// A valid reading in varied spelling: key order, whitespace, vector or flat axes, number forms.
    static func ordinaryReading(_ random: inout SplitMix64, index: Int, catalog: SensorCatalog) -> (String, String) {
        let device = ["press-\(index % 50)", "line_3.motor:\(index % 7)", "m\(index)", "Press_\(index % 3)"][index % 4]
        var members: [String] = ["\"device_id\":\"\(device)\""]
        if random.next() % 4 != 0 {
            let seconds = 1_700_000_000 + Int(random.next() % 1_000_000)
            let fraction = ["", ".5", ".123456", ".123456789"][Int(random.next() % 4)]
            let whole = RFC3339.format(Int64(seconds) * 1_000_000_000).dropLast()  // without its Z
            members.append("\"timestamp\":\"\(whole)\(fraction)Z\"")
        }
        var groups: [String: [String]] = [:]
        for metric in Metric.allCases where random.next() % 3 != 0 || metric == .temperature {
            let entry = catalog[metric]!
            let value = number(in: entry.validRange, integer: metric.isInteger, &random)
            let name = metric.name
            if let separator = name.firstIndex(of: "_"), metric != .cycleCount, random.next() % 2 == 0 {
                let group = String(name[..<separator])
                groups[group, default: []].append("\"\(name[name.index(after: separator)...])\": \(value)")
            } else {
                members.append("\"\(name)\":\(value)")
            }
        }
        for (group, axes) in groups.sorted(by: { $0.key < $1.key }) {
            members.append("\"\(group)\":{\(axes.joined(separator: ","))}")
        }
        members.shuffle(using: &random)
        let separator = [",", ", ", " ,\n "][Int(random.next() % 3)]
        return ("{" + members.joined(separator: separator) + "}", device)
    }

    static func number(in range: ClosedRange<Double>, integer: Bool, _ random: inout SplitMix64) -> String {
        let unit = Double(random.next() % 1_000_000) / 1_000_000
        let value = range.lowerBound + (range.upperBound - range.lowerBound) * unit
        if integer { return String(Int64(value.rounded(.down))) }
        // Up to 17 significant digits; Swift writes tiny and huge values with an exponent.
        let plain = value.description.contains("e") ? String(format2: value) : value.description
        switch random.next() % 4 {
        case 0: return String(Int64(value.rounded(.towardZero)))
        case 1: return String(format2: value)
        case 2: return plain
        default: return plain.contains(".") ? plain + "0000000000" : plain  // more than 15 digits
        }
    }

    /// One random corruption of a valid reading (some leave it valid).
    static func mutate(_ json: String, _ random: inout SplitMix64) -> String {
        var text = json
        switch random.next() % 12 {
        case 0: text = text.replacingOccurrences(of: "\"temperature\":", with: "\"temperature\":null,\"t\":")
        case 1: text = text.replacingOccurrences(of: "\"device_id\":\"", with: "\"device_id\":\"x\\n")
        case 2: text = text.replacingOccurrences(of: "}", with: ",\"humidity\":1}")
        case 3: text = text.replacingOccurrences(of: "1", with: "1e0")
        case 4: text = text.replacingOccurrences(of: "\"device_id\":\"", with: "\"device_id\":\"\u{85}")
        case 5: text = String(text.dropLast(Int(random.next() % 5) + 1))
        case 6: text = text.replacingOccurrences(of: ":", with: ": -")
        case 7: text = text.replacingOccurrences(of: "\"cycle_count\":", with: "\"cycle_count\":0.")
        case 8: text = text.replacingOccurrences(of: "\"device_id\":\"", with: "\"device_id\":\"#")
        case 9: text = text.replacingOccurrences(of: "Z\"", with: "+09:00\"")
        case 10: text = text.replacingOccurrences(of: "2", with: "9")
        default: text = text.replacingOccurrences(of: ".", with: "")
        }
        return text
    }
}

extension String {
    /// `value` with two decimals, without Foundation.
    fileprivate init(format2 value: Double) {
        let hundredths = Int64((value * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let magnitude = hundredths.magnitude
        let fraction = magnitude % 100
        self = "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
