import MobyTestSupport
import Testing

@testable import MobyCore

@Suite struct ReadingDecoderTests {
    let decoder: ReadingDecoder
    let now: Int64 = 1_700_000_000_000_000_000

    init() throws {
        decoder = ReadingDecoder(catalog: try SensorCatalog.load(path: TestPaths.catalog))
    }

    func decode(_ json: String, topicDevice: String? = nil) -> Result<Reading, ReadingRejection> {
        decoder.decode(Array(json.utf8), topicDeviceID: topicDevice, receivedAt: now)
    }

    func errors(_ json: String, topicDevice: String? = nil) -> [FieldError] {
        if case .failure(let rejection) = decode(json, topicDevice: topicDevice) { return rejection.errors }
        Issue.record("expected a rejection for \(json)")
        return []
    }

    @Test func decodesTheSeedMessage() throws {
        let reading = try decode(
            #"{"device_id":"sensor_001","temperature":25.3,"humidity":60.5,"vibration":0.12,"sound":45.8,"timestamp":"2025-11-17T10:30:00Z"}"#
        ).get()
        #expect(reading.deviceID == "sensor_001")
        #expect(reading.timestamp == 1_763_375_400_000_000_000)
        #expect(
            reading.values == [
                MetricValue(.temperature, 25.3), MetricValue(.humidity, 60.5), MetricValue(.vibration, 0.12),
                MetricValue(.sound, 45.8),
            ])
    }

    @Test func acceptsEveryMetricAndVectors() throws {
        let reading = try decode(
            #"{"device_id":"d","accel":{"x":0.1,"y":-0.2,"z":9.8},"gyro_x":1,"gyro":{"y":2,"z":3},"cycle_count":12345}"#
        ).get()
        #expect(reading[.accelX] == 0.1)
        #expect(reading[.accelZ] == 9.8)
        #expect(reading[.gyroX] == 1)
        #expect(reading[.gyroZ] == 3)
        #expect(reading[.cycleCount] == 12345)
        #expect(reading.timestamp == now)
    }

    @Test func subsetsAndNullsAreFine() throws {
        let reading = try decode(#"{"device_id":"d","sound":50,"humidity":null,"timestamp":null}"#).get()
        #expect(reading.values == [MetricValue(.sound, 50)])
        #expect(reading.timestamp == now)
    }

    @Test func topicNamesTheDevice() throws {
        #expect(try decode(#"{"temperature":20}"#, topicDevice: "press_7").get().deviceID == "press_7")
        #expect(
            try decode(#"{"device_id":"press_7","temperature":20}"#, topicDevice: "press_7").get().deviceID == "press_7"
        )
        #expect(
            errors(#"{"device_id":"press_8","temperature":20}"#, topicDevice: "press_7").map(\.field) == ["device_id"])
    }

    @Test func explainsEveryProblem() {
        let found = errors(
            #"{"device_id":"d","temperature":"hot","humidity":140,"cycle_count":1.5,"colour":"red","timestamp":"yesterday","accel":{"w":1}}"#
        )
        #expect(found.map(\.field) == ["temperature", "humidity", "cycle_count", "colour", "timestamp", "accel.w"])
        #expect(found[1].message.contains("outside the valid range"))
    }

    @Test func requiresADeviceAndAMetric() {
        #expect(errors(#"{"temperature":20}"#).map(\.field) == ["device_id"])
        #expect(errors(#"{"device_id":"d"}"#).map(\.field) == ["payload"])
        #expect(errors(#"{"device_id":"","temperature":1}"#).map(\.field) == ["device_id"])
        #expect(errors(#"{"device_id":"a\nb","temperature":1}"#).map(\.field) == ["device_id"])
        #expect(errors(#"{"device_id":"a+b","temperature":1}"#).map(\.field) == ["device_id"])
        #expect(errors(#"{"device_id":7,"temperature":1}"#).map(\.field) == ["device_id"])
        #expect(
            errors(#"{"device_id":"\#(String(repeating: "x", count: 129))","temperature":1}"#).map(\.field) == [
                "device_id"
            ])
    }

    @Test func refusesNonObjectsAndBrokenJSON() {
        #expect(errors("[1,2]").map(\.field) == ["payload"])
        #expect(errors("{\"device_id\":").map(\.field) == ["payload"])
        #expect(errors("").map(\.field) == ["payload"])
        #expect(errors(#"{"device_id":"d","temperature":1,"temperature":2}"#).map(\.field) == ["temperature"])
        #expect(errors(#"{"device_id":"d","accel_x":1,"accel":{"x":2}}"#).map(\.field) == ["accel.x"])
    }

    @Test func refusesHugePayloads() {
        let big = Array(repeating: UInt8(ascii: " "), count: ReadingDecoder.maxPayloadBytes + 1)
        guard case .failure(let rejection) = decoder.decode(big, topicDeviceID: nil, receivedAt: now) else {
            Issue.record("accepted")
            return
        }
        #expect(rejection.errors.first?.message.contains("larger than") == true)
    }

    @Test func topicsMapToDevices() {
        #expect(ReadingTopic.deviceID(inTopic: "factory/sensor/data") == .some(nil))
        #expect(ReadingTopic.deviceID(inTopic: "factory/sensor/data/s1") == .some("s1"))
        #expect(ReadingTopic.deviceID(inTopic: "factory/sensor/data/") == nil)
        #expect(ReadingTopic.deviceID(inTopic: "factory/other") == nil)
        #expect(ReadingTopic.deviceID(inTopic: "factory/sensor/data/센서-1") == .some("센서-1"), "the rest decoded whole")
        #expect(ReadingTopic.deviceID(inTopic: "factory/sensor/datax/s1") == nil)
    }
}
