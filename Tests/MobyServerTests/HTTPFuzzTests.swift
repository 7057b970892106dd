import Foundation
import Hummingbird
import HummingbirdTesting
import MobyCore
import MobyServer
import MobyTestSupport
import NIOCore
import Testing

/// Random but well-formed requests to every endpoint (seeded, so a failure repeats): extreme
/// times and numbers, odd Unicode, bad escapes, mutated readings. The server must answer every
/// one without a 5xx (its dependencies are up) and still be alive at the end.
@Suite(.serialized) struct HTTPFuzzTests {
    static let requests = 1_500

    @Test func randomRequestsNeverGetA5xxAndNeverKillTheServer() async throws {
        try await PipelineFixture.with { fixture in
            let app = try await buildApplication(configuration: try fixture.configuration(), logger: testLogger())
            try await app.test(.live) { client in
                try await waitUntilReady(client)
                var random = SplitMix64(
                    seed: UInt64(ProcessInfo.processInfo.environment["MOBY_FUZZ_SEED"] ?? "") ?? 2026)
                var failures: [String] = []
                var statuses: [Int: Int] = [:]
                for _ in 0..<Self.requests {
                    let request = RequestFuzzer.request(&random)
                    let described =
                        "\(request.method) \(request.uri.prefix(300)) \(request.body.map { String(decoding: $0.prefix(200), as: UTF8.self) } ?? "")"
                    if ProcessInfo.processInfo.environment["MOBY_FUZZ_TRACE"] != nil { print("fuzz: \(described)") }
                    let status = try await withThrowingTaskGroup(of: UInt?.self) { group in
                        group.addTask {
                            try await client.execute(
                                uri: request.uri, method: request.method, headers: request.headers,
                                body: request.body.map { ByteBuffer(bytes: $0) }
                            ) { UInt($0.status.code) }
                        }
                        group.addTask {
                            try await Task.sleep(for: .seconds(10))
                            return nil
                        }
                        defer { group.cancelAll() }
                        return try await group.next() ?? nil
                    }
                    guard let status = status.map({ Int($0) }) else {
                        Issue.record("no answer within 10 s: \(described)")
                        return
                    }
                    statuses[status, default: 0] += 1
                    if status >= 500, failures.count < 10 {
                        failures.append("\(described) -> \(status)")
                    }
                }
                #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
                // The fuzzer reached the code behind validation too, not only 400s.
                #expect(statuses[200, default: 0] > Self.requests / 20, "\(statuses)")
                #expect(statuses[400, default: 0] > Self.requests / 20, "\(statuses)")
                try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
                try await client.execute(uri: "/health/ready", method: .get) { #expect($0.status == .ok) }
            }
        }
    }
}

/// Builds random requests: an endpoint, query parameters drawn from the names the API knows
/// plus strangers, values from generators of awkward text, and bodies from mutated readings.
enum RequestFuzzer {
    struct FuzzRequest {
        var method: HTTPRequest.Method
        var uri: String
        var headers: HTTPFields = [:]
        var body: [UInt8]?
    }

    static func request(_ random: inout SplitMix64) -> FuzzRequest {
        let id = pick(&random, ["1", "0", "-1", "9223372036854775807", "99999999999999999999", "abc", "%00", "1.5"])
        switch random.next() % 13 {
        case 0, 1, 2: return FuzzRequest(method: .get, uri: "/api/v1/readings" + query(&random))
        case 3, 4: return FuzzRequest(method: .get, uri: "/api/v1/alerts" + query(&random))
        case 5: return FuzzRequest(method: .get, uri: "/api/v1/alerts/\(id)" + query(&random))
        case 6:
            return FuzzRequest(
                method: .get,
                uri: pick(
                    &random,
                    [
                        "/api/v1/devices", "/api/v1/catalog", "/api/v1/console", "/", "/health", "/health/ready",
                        "/metrics",
                        "/api/v1/devices/"
                            + pick(
                                &random,
                                [
                                    "sensor_001", "%00", "%0A", "%ZZ", "%E2%80%8B", "..", "%2F", "a%20b",
                                    String(repeating: "a", count: 6_000), "%C3%28",
                                ]),
                    ]) + query(&random))
        case 7:
            let action = pick(&random, ["acknowledge", "resolve"])
            return FuzzRequest(
                method: .post, uri: "/api/v1/alerts/\(id)/\(action)", headers: [.contentType: "application/json"],
                body: actionBody(&random))
        case 8:
            let device = pick(&random, ["fuzz-1", "press-7", "%00", "a%2Fb", String(repeating: "d", count: 200)])
            return FuzzRequest(
                method: .put, uri: "/api/v1/devices/\(device)", headers: [.contentType: "application/json"],
                body: deviceBody(&random))
        default:
            let contentType = pick(&random, ["application/json", "application/json; charset=utf-8", "text/plain", ""])
            return FuzzRequest(
                method: .post, uri: "/publish" + query(&random),
                headers: contentType.isEmpty ? [:] : [.contentType: contentType], body: reading(&random))
        }
    }

    static func pick<T>(_ random: inout SplitMix64, _ items: [T]) -> T {
        items[Int(random.next() % UInt64(items.count))]
    }

    static let names = [
        "device", "metric", "from", "to", "points", "status", "severity", "limit", "offset", "since", "id", "x",
    ]

    static func query(_ random: inout SplitMix64) -> String {
        let count = Int(random.next() % 6)
        guard count > 0 else { return "" }
        var pairs: [String] = []
        for _ in 0..<count {
            let name = pick(&random, names)
            pairs.append(name + "=" + value(&random, for: name))
        }
        return "?" + pairs.joined(separator: "&")
    }

    /// A query value, already percent-encoded (or deliberately badly).
    static func value(_ random: inout SplitMix64, for name: String) -> String {
        switch random.next() % 10 {
        case 0: return pick(&random, ["", "+", "%", "%0", "%ZZ", "%0A", "%00", "%C3%28", "a+b", "%2B"])
        case 1:
            return encode(
                pick(
                    &random,
                    [
                        "0", "-1", "1", "300", "10000", "10001", "9223372036854775807", "-9223372036854775808",
                        "18446744073709551616", "1e9", "0x10", " 5",
                    ]))
        case 2, 3: return encode(time(&random))
        case 4: return encode(text(&random))
        default:
            switch name {
            case "device", "id":
                return encode(pick(&random, ["sensor_001", "x", "burst", "d\u{200B}1", "a\\", "a'b", "a\"b"]))
            case "metric":
                return encode(pick(&random, ["temperature", "anomaly_score", "accel_x,gyro_z", "bogus", ","]))
            case "status": return encode(pick(&random, ["pending", "acknowledged,resolved", "open", ""]))
            case "severity": return encode(pick(&random, ["warning", "critical,warning", "fatal"]))
            default: return encode(time(&random))
            }
        }
    }

    /// An RFC 3339-looking time: mostly valid, across the whole range of years.
    static func time(_ random: inout SplitMix64) -> String {
        func pad(_ value: UInt64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let year = pick(&random, [random.next() % 10_000, 1677, 1970, 2026, 2262, 1900, 2200])
        let month = 1 + random.next() % 12
        let day = 1 + random.next() % (random.next() % 4 == 0 ? 31 : 28)
        var text =
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(random.next() % 24, 2)):\(pad(random.next() % 60, 2)):\(pad(random.next() % 61, 2))"
        if random.next() % 3 == 0 { text += "." + pad(random.next() % 1_000_000_000, 9) }
        text += pick(&random, ["Z", "+09:00", "-23:59", "z", ""])
        return text
    }

    /// Text with awkward characters.
    static func text(_ random: inout SplitMix64) -> String {
        let pool = Array("aZ09 -_.:'\"\\/\n\t\r\u{0}é温\u{200B}\u{202E}\u{FEFF}\u{2028}😀%&=+#?".unicodeScalars)
        var text = ""
        for _ in 0..<Int(random.next() % 12) { text.unicodeScalars.append(pick(&random, pool)) }
        if random.next() % 20 == 0 { text += String(repeating: "x", count: 5_000) }
        return text
    }

    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                || "-_.~".utf8.contains(byte)
            {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    static func actionBody(_ random: inout SplitMix64) -> [UInt8]? {
        switch random.next() % 5 {
        case 0: return nil
        case 1:
            return Array(#"{"actor":"\#(jsonEscaped(text(&random)))","note":"\#(jsonEscaped(text(&random)))"}"#.utf8)
        case 2: return Array("{\"note\":\"\(String(repeating: "n", count: 5_000))\"}".utf8)
        case 3: return Array(#"{"actor":7,"note":[1,2]}"#.utf8)
        default: return bytes(&random)
        }
    }

    /// A registry entry: awkward names, places, profiles and labels, wrong types, broken JSON.
    static func deviceBody(_ random: inout SplitMix64) -> [UInt8]? {
        let text = { (random: inout SplitMix64) in "\"\(jsonEscaped(RequestFuzzer.text(&random)))\"" }
        let value = { (random: inout SplitMix64) in
            pick(&random, [text(&random), "null", "7", "[]", "{}", "\"plant-a\"", "\"\"", "true"])
        }
        switch random.next() % 6 {
        case 0: return nil
        case 1: return bytes(&random)
        case 2:
            return Array(
                #"{"name":\#(value(&random)),"location":\#(value(&random)),"line":\#(value(&random)),"profile":\#(pick(&random, ["\"cold_room\"", "\"press\"", "\"default\"", "\"freezer\"", text(&random), "1"])),"labels":{"cell":\#(value(&random)),\#(text(&random)):\#(value(&random))}}"#
                    .utf8)
        case 3: return Array(#"{"labels":\#(value(&random)),"owner":1}"#.utf8)
        case 4: return Array((String(repeating: "[", count: 600) + String(repeating: "]", count: 600)).utf8)
        default: return Array(#"{"profile":"press","location":"plant-\#(random.next() % 5)"}"#.utf8)
        }
    }

    /// A reading, often mutated: extreme numbers, odd ids and times, broken syntax, deep nesting.
    static func reading(_ random: inout SplitMix64) -> [UInt8] {
        let device = pick(&random, ["fuzz-1", "fuzz-2", jsonEscaped(text(&random)), "dev\\\\", ""])
        let number = pick(
            &random,
            [
                "20", "-0", "1e400", "-1e400", "1e-400", "9223372036854775808", "0.1", "NaN", "1.0e2", "\"20\"", "null",
                "[]", "{}",
            ])
        let field = pick(
            &random, ["temperature", "humidity", "cycle_count", "sound", "accel", "gyro_x", "location", "device_id"])
        var json = #"{"device_id":"\#(device)","\#(field)":\#(number)"#
        if random.next() % 2 == 0 { json += #","timestamp":"\#(time(&random))""# }
        json += "}"
        switch random.next() % 8 {
        case 0: return bytes(&random)
        case 1: return Array((String(repeating: "[", count: 10_000) + json).utf8)
        case 2: return Array(json.utf8.dropLast(Int(random.next() % 5)))
        default: return Array(json.utf8)
        }
    }

    static func bytes(_ random: inout SplitMix64) -> [UInt8] {
        (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    static func jsonEscaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
