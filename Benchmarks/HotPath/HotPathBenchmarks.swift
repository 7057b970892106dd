import Benchmark
import Foundation
import Influx
import MQTT
import MobyCore
import MobyServer
import NIOCore

/// The pieces every reading goes through in moby-server, one benchmark each, so that a
/// regression shows up as a number (`make bench-micro`; compare runs with
/// `swift package benchmark baseline compare`).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )
    let sample = HotPathSample.load()

    Benchmark("MQTT PUBLISH decode") { benchmark in
        var decoder = MQTTPacketDecoder()
        for _ in benchmark.scaledIterations {
            var wire = sample.publishWire
            blackHole(try? decoder.decode(&wire))
        }
    }

    Benchmark("Reading decode (scanner)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                sample.payload.withUnsafeBytes {
                    sample.decoder.decode($0, topicDeviceID: sample.device, receivedAt: 0)
                })
        }
    }

    Benchmark("Reading decode (full decoder)") { benchmark in
        for _ in benchmark.scaledIterations {
            let document = try JSONParser.parse(sample.payload)
            blackHole(sample.decoder.decode(document, topicDeviceID: sample.device, receivedAt: 0))
        }
    }

    Benchmark("Anomaly score") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(sample.scorer.score(sample.reading))
        }
    }

    Benchmark("Line protocol (in place)") { benchmark in
        var buffer = ByteBuffer()
        buffer.reserveCapacity(1 << 20)
        for _ in benchmark.scaledIterations {
            buffer.clear()
            try sample.reading.writeLine(anomalyScore: 1.25, into: &buffer)
        }
        blackHole(buffer)
    }

    Benchmark("Line protocol (Point)") { benchmark in
        var buffer = ByteBuffer()
        buffer.reserveCapacity(1 << 20)
        for _ in benchmark.scaledIterations {
            buffer.clear()
            try LineProtocol.encode(sample.point, into: &buffer)
        }
        blackHole(buffer)
    }
}

/// One seed-format reading with every metric, as moby-sensor publishes it.
struct HotPathSample: @unchecked Sendable {
    let device = "sensor_0042"
    let payload: [UInt8]
    let publishWire: ByteBuffer
    let decoder: ReadingDecoder
    let scorer: AnomalyScorer
    let reading: Reading
    let point: Point

    static func load() -> HotPathSample {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let catalog: SensorCatalog
        do {
            catalog = try SensorCatalog.load(path: root.appendingPathComponent("config/sensors.json").path)
        } catch {
            fatalError("cannot load the sensor catalog: \(error)")
        }
        return HotPathSample(catalog: catalog)
    }

    init(catalog: SensorCatalog) {
        let json =
            #"{"device_id":"sensor_0042","timestamp":"2026-11-27T10:00:00.123456Z","temperature":24.53,"#
            + #""humidity":45.2,"vibration":1.274,"sound":62.5,"accel":{"x":0.013,"y":-0.021,"z":9.81},"#
            + #""gyro":{"x":0.11,"y":0.2,"z":-0.104},"cycle_count":128734}"#
        payload = Array(json.utf8)
        var wire = ByteBuffer()
        try! MQTTPacket.publish(
            MQTTPublish(
                topic: ReadingTopic.topic(for: device), payload: ByteBuffer(bytes: payload), qos: .atLeastOnce,
                packetID: 7)
        ).write(into: &wire)
        publishWire = wire
        decoder = ReadingDecoder(catalog: catalog)
        scorer = AnomalyScorer(catalog: catalog)
        guard case .success(let reading) = decoder.decode(payload, topicDeviceID: device, receivedAt: 0) else {
            fatalError("the sample reading does not decode")
        }
        self.reading = reading
        point = Point(
            measurement: "sensors", tags: [(key: "device_id", value: reading.deviceID)],
            fields: reading.values.map { (key: $0.metric.name, value: FieldValue.float($0.value)) } + [
                (key: "anomaly_score", value: .float(1.25))
            ],
            timestamp: reading.timestamp)
    }
}
