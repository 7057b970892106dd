import NIOCore
import Synchronization
import Testing

@testable import MQTT

/// The queue between the connection and the application, taken in runs (as ingest does).
@Suite(.timeLimit(.minutes(1)))
struct InboundBufferTests {
    func messages(_ range: Range<Int>) -> [MQTTMessage] {
        range.map { MQTTMessage(topic: "t", payload: ByteBuffer(string: "m\($0)")) }
    }

    func texts(_ run: [MQTTMessage]?) -> [String] {
        (run ?? []).map { String(buffer: $0.payload) }
    }

    @Test func runsKeepOrderAndRespectTheMaximum() async {
        let buffer = InboundBuffer(capacity: 100)
        buffer.append(contentsOf: messages(0..<10))
        #expect(texts(await buffer.nextRun(upTo: 4)) == ["m0", "m1", "m2", "m3"])
        #expect(texts(await buffer.nextRun(upTo: 4)) == ["m4", "m5", "m6", "m7"])
        #expect(texts(await buffer.nextRun(upTo: 4)) == ["m8", "m9"])
        buffer.finish()
        #expect(await buffer.nextRun(upTo: 4) == nil)
    }

    @Test func aWaitingConsumerGetsTheWholeBurst() async {
        let buffer = InboundBuffer(capacity: 100)
        async let run = buffer.nextRun(upTo: 50)
        try? await Task.sleep(for: .milliseconds(50))  // let the consumer wait
        buffer.append(contentsOf: messages(0..<5))
        #expect(texts(await run) == ["m0", "m1", "m2", "m3", "m4"])
    }

    @Test func drainingARunResumesAHeldRead() async {
        let buffer = InboundBuffer(capacity: 4)
        let resumed = Atomic(0)
        buffer.append(contentsOf: messages(0..<4))
        let reading = buffer.shouldRead(orWhenReady: { resumed.add(1, ordering: .relaxed) })
        #expect(!reading)
        #expect(texts(await buffer.nextRun(upTo: 3)) == ["m0", "m1", "m2"])
        #expect(resumed.load(ordering: .relaxed) == 1)
        let readingAgain = buffer.shouldRead(orWhenReady: {})
        #expect(readingAgain)
    }

    @Test func stoppingDeliveryEndsAWaitAndLeavesTheRestUndelivered() async {
        let buffer = InboundBuffer(capacity: 100)
        async let waiting = buffer.nextRun(upTo: 50)
        try? await Task.sleep(for: .milliseconds(50))  // let the consumer wait
        buffer.stopDelivering()
        #expect(await waiting == nil)
        buffer.append(contentsOf: messages(0..<3))
        #expect(await buffer.nextRun(upTo: 50) == nil)
        #expect(buffer.count == 3)
    }

    @Test func stoppingDeliveryEndsTheIterationOfAConsumerBetweenRuns() async {
        let buffer = InboundBuffer(capacity: 100)
        let stream = MQTTMessages(buffer: buffer)
        buffer.append(contentsOf: messages(0..<2))
        var seen: [String] = []
        for await run in stream.runs(upTo: 1) {
            seen += texts(run)
            stream.stopDelivering()
        }
        #expect(seen == ["m0"])
    }
}
