import Influx
import MobyCore
import NIOCore
import Testing

@testable import MobyServer

/// Ingest writes a reading's line directly; it must be byte for byte the line of its `Point`.
@Suite struct ReadingLineTests {
    @Test func sameBytesAsThePointEncoder() throws {
        var random = SplitMix64(seed: 3)
        let devices = ["press-1", "a b,c=d", "trailing\\x", "설비 7", "x\\"]
        for index in 0..<2_000 {
            var values: [MetricValue] = []
            for metric in Metric.allCases where random.next() % 2 == 0 {
                let raw = Double(Int64(random.next() % 2_000_000) - 1_000_000) / Double(1 + random.next() % 1_000)
                values.append(MetricValue(metric, metric.isInteger ? raw.rounded() : raw))
            }
            let reading = Reading(
                deviceID: devices[index % devices.count], timestamp: Int64(bitPattern: random.next()) / 4,
                values: values)
            let score = Double(random.next() % 10_000) / 7
            var buffer = ByteBuffer(string: "before\n")
            let expected = Result { () throws(LineProtocolError) in
                try LineProtocol.line(reading.point(anomalyScore: score))
            }
            do {
                try reading.writeLine(anomalyScore: score, into: &buffer)
                #expect("before\n" + (try expected.get()) == String(buffer: buffer))
            } catch {
                // Refused exactly when the point encoder refuses, and nothing was written.
                #expect(throws: LineProtocolError.self) { try expected.get() }
                #expect(String(buffer: buffer) == "before\n")
            }
        }
    }

    @Test func refusesWhatLineProtocolCannotCarry() {
        var buffer = ByteBuffer()
        let broken = Reading(deviceID: "a\nb", timestamp: 1, values: [MetricValue(.temperature, 20)])
        #expect(throws: LineProtocolError.self) { try broken.writeLine(anomalyScore: 0, into: &buffer) }
        let infinite = Reading(deviceID: "a", timestamp: 1, values: [MetricValue(.temperature, .infinity)])
        #expect(throws: LineProtocolError.self) { try infinite.writeLine(anomalyScore: 0, into: &buffer) }
        #expect(buffer.readableBytes == 0)
    }
}
