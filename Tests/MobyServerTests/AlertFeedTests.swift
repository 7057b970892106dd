import Testing

@testable import MobyServer

@Suite struct AlertFeedTests {
    func event(_ sequence: Int64) -> AlertEvent {
        AlertEvent(sequence: sequence, type: .updated, alertID: 1, at: sequence, message: "{\"seq\":\(sequence)}")
    }

    @Test func aSlowSubscriberIsDroppedWithoutAffectingOthers() async {
        let feed = AlertFeed(bufferLimit: 3)
        let (slow, slowEvents) = feed.subscribe()
        let (fast, fastEvents) = feed.subscribe()
        var fastIterator = fastEvents.makeAsyncIterator()
        var fastSeen: [Int64] = []
        for sequence in 1...5 {
            #expect(feed.publish(event(Int64(sequence))) == (sequence == 4 ? 1 : 0))
            if let next = await fastIterator.next() { fastSeen.append(next.sequence) }
        }
        #expect(fastSeen == [1, 2, 3, 4, 5])
        #expect(feed.wasDropped(slow) && !feed.wasDropped(fast))
        #expect(feed.subscriberCount == 1)
        // The slow one still gets what it had buffered, then its stream ends.
        var buffered: [Int64] = []
        for await event in slowEvents { buffered.append(event.sequence) }
        #expect(buffered == [1, 2, 3])
        feed.unsubscribe(fast)
        #expect(feed.subscriberCount == 0)
    }
}
