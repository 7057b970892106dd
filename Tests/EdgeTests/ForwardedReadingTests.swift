import Edge
import MobyCore
import MobyTestSupport
import Testing

@Suite struct ForwardedReadingTests {
    let now: Int64 = 1_767_225_600_000_000_000  // 2026-01-01T00:00:00Z

    func prepared(_ line: String, device: String? = nil) throws -> (topic: String, json: String) {
        let result = try #require(ForwardedReading.prepare(line, defaultDeviceID: device, now: now))
        let message = try result.get()
        return (message.topic, String(decoding: message.payload, as: UTF8.self))
    }

    @Test func aCompleteLineIsSentAsItIs() throws {
        let line = #"{"device_id":"pi-7","temperature":21.5,"timestamp":"2026-01-01T00:00:01Z"}"#
        let (topic, json) = try prepared(line)
        #expect(topic == "factory/sensor/data/pi-7")
        #expect(json == line)
    }

    @Test func missingDeviceAndTimestampAreFilledInAndTheServerAcceptsTheResult() throws {
        let (topic, json) = try prepared(#"  {"temperature":21.5,"humidity":40}  "#, device: "Werk-Süd.7")
        #expect(topic == "factory/sensor/data/Werk-Süd.7")
        let decoder = ReadingDecoder(catalog: try SensorCatalog.load(path: TestPaths.catalog))
        let reading = try decoder.decode(Array(json.utf8), topicDeviceID: "Werk-Süd.7", receivedAt: 0).get()
        #expect(reading.deviceID == "Werk-Süd.7" && reading.timestamp == now && reading[.temperature] == 21.5)
        let (_, empty) = try prepared("{}", device: "pi-1")
        #expect(empty == #"{"device_id":"pi-1","timestamp":"2026-01-01T00:00:00Z"}"#)
    }

    @Test(arguments: [
        ("[1,2]", "not a JSON object"),
        (#"{"temperature":1"#, "invalid JSON"),
        (#"{"temperature":1}"#, "no device_id"),
        (#"{"device_id":7}"#, "device_id must be a string"),
        (#"{"device_id":"a+b"}"#, "device_id must contain only letters and digits"),
        (#"{"device_id":"pi \"west\""}"#, "found a space"),
    ])
    func badLinesAreRejectedWithTheReason(line: String, reason: String) throws {
        let result = try #require(ForwardedReading.prepare(line, defaultDeviceID: nil, now: now))
        guard case .failure(let rejection) = result else {
            Issue.record("accepted \(line)")
            return
        }
        #expect(rejection.reason.contains(reason), "\(rejection.reason)")
    }

    @Test func blankLinesAreSkipped() {
        #expect(ForwardedReading.prepare("   ", defaultDeviceID: "x", now: now) == nil)
    }
}
