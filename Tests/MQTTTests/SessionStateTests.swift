import Testing

@testable import MQTT

/// The session state machine without sockets: waiters are plain integers.
@Suite struct SessionStateTests {
    typealias State = SessionState<Int>

    func publish(_ topic: String, _ qos: MQTTQoS, id: UInt16? = nil, dup: Bool = false) -> MQTTPublish {
        MQTTPublish(topic: topic, payload: ByteBuffer(string: topic), qos: qos, packetID: id, duplicate: dup)
    }

    func succeeded(_ effects: SessionEffects<Int>) -> [Int] {
        effects.completions.compactMap { if case .success = $0.result { $0.waiter } else { nil } }
    }

    func failed(_ effects: SessionEffects<Int>) -> [(Int, String)] {
        effects.completions.compactMap {
            if case .failure(let error) = $0.result { ($0.waiter, String(describing: error)) } else { nil }
        }
    }

    @Test func publishWhileDisconnectedWaitsForConnection() {
        var state = State(maxInflight: 10)
        let queued = state.publish(publish("a", .atLeastOnce), requestID: 1, waiter: 1)
        #expect(queued.packets.isEmpty && queued.completions.isEmpty)
        let qos0 = state.publish(publish("b", .atMostOnce), requestID: 2, waiter: 2)
        #expect(qos0.packets.isEmpty)

        let connected = state.connected(sessionPresent: false)
        #expect(
            connected.packets == [.publish(publish("a", .atLeastOnce, id: 1)), .publish(publish("b", .atMostOnce))])
        #expect(succeeded(connected) == [2])

        let acked = state.pubAck(packetID: 1)
        #expect(succeeded(acked) == [1])
        #expect(state.outgoing.isEmpty)
    }

    @Test func aBatchIsQueuedTogetherAndSentAsTheWindowAllows() {
        var state = State(maxInflight: 2)
        _ = state.connected(sessionPresent: false)
        let batch = (1...5).map { (publish: publish("b\($0)", .atLeastOnce), requestID: UInt64($0)) }
        let sent = state.publish(contentsOf: batch.map { ($0.publish, $0.requestID, 7) })
        #expect(
            sent.packets == [
                .publish(publish("b1", .atLeastOnce, id: 1)), .publish(publish("b2", .atLeastOnce, id: 2)),
            ])
        #expect(state.queue.count == 3)
        let first = state.pubAck(packetID: 1)
        #expect(succeeded(first) == [7])
        #expect(first.packets == [.publish(publish("b3", .atLeastOnce, id: 3))], "an ack frees a slot for the next")
        for id: UInt16 in 2...5 { #expect(succeeded(state.pubAck(packetID: id)) == [7]) }
        #expect(state.queue.isEmpty && state.outgoing.isEmpty)

        // Behind a publish already waiting for a slot, a batch waits its turn, in order.
        var busy = State(maxInflight: 1)
        _ = busy.connected(sessionPresent: false)
        _ = busy.publish(publish("x", .atLeastOnce), requestID: 10, waiter: 1)
        _ = busy.publish(publish("y", .atLeastOnce), requestID: 11, waiter: 2)
        #expect(busy.publish(contentsOf: [(publish("z", .atLeastOnce), 12, 3)]).packets.isEmpty)
        #expect(busy.pubAck(packetID: 1).packets == [.publish(publish("y", .atLeastOnce, id: 2))])
        #expect(busy.pubAck(packetID: 2).packets == [.publish(publish("z", .atLeastOnce, id: 3))])

        // The PUBACKs of one read burst at once: completions in order, freed slots refilled once.
        var burst = State(maxInflight: 3)
        _ = burst.connected(sessionPresent: false)
        let six = (1...6).map { (publish: publish("c\($0)", .atLeastOnce), requestID: UInt64(100 + $0)) }
        #expect(burst.publish(contentsOf: six.map { ($0.publish, $0.requestID, 8) }).packets.count == 3)
        let acks = burst.pubAcks([1, 2, 99])
        #expect(succeeded(acks) == [8, 8])
        #expect(acks.warnings == ["PUBACK for unknown packet identifier 99"])
        #expect(
            acks.packets == [
                .publish(publish("c4", .atLeastOnce, id: 4)), .publish(publish("c5", .atLeastOnce, id: 5)),
            ])

        var stopped = State(maxInflight: 1)
        _ = stopped.stop()
        #expect(failed(stopped.publish(contentsOf: batch.map { ($0.publish, $0.requestID, 9) })).count == 5)
    }

    @Test func unackedPublishesAreResentWithDupAfterReconnect() {
        var state = State(maxInflight: 10)
        _ = state.connected(sessionPresent: false)
        #expect(state.publish(publish("q1", .atLeastOnce), requestID: 1, waiter: 1).packets.count == 1)
        #expect(state.publish(publish("q2", .exactlyOnce), requestID: 2, waiter: 2).packets.count == 1)
        #expect(state.publish(publish("q2b", .exactlyOnce), requestID: 3, waiter: 3).packets.count == 1)
        #expect(state.pubRec(packetID: 3).packets == [.pubrel(packetID: 3)])

        state.disconnected()
        #expect(state.publish(publish("later", .atLeastOnce), requestID: 4, waiter: 4).packets.isEmpty)

        let resent = state.connected(sessionPresent: true)
        #expect(
            resent.packets == [
                .publish(publish("q1", .atLeastOnce, id: 1, dup: true)),
                .publish(publish("q2", .exactlyOnce, id: 2, dup: true)),
                .pubrel(packetID: 3),
                .publish(publish("later", .atLeastOnce, id: 4)),
            ])
        #expect(succeeded(state.pubComp(packetID: 3)) == [3])
        #expect(state.pubRec(packetID: 2).packets == [.pubrel(packetID: 2)])
        #expect(succeeded(state.pubComp(packetID: 2)) == [2])
        #expect(succeeded(state.pubAck(packetID: 1)) == [1])
        #expect(succeeded(state.pubAck(packetID: 4)) == [4])
        #expect(state.outgoing.isEmpty)
    }

    @Test func wrongOrUnknownAcknowledgementsAreIgnored() {
        var state = State(maxInflight: 10)
        _ = state.connected(sessionPresent: false)
        _ = state.publish(publish("q2", .exactlyOnce), requestID: 1, waiter: 1)
        let wrong = state.pubAck(packetID: 1)
        #expect(wrong.completions.isEmpty && !wrong.warnings.isEmpty)
        #expect(state.pubComp(packetID: 99).completions.isEmpty)
        #expect(state.outgoing.count == 1)
    }

    @Test func inflightLimitQueuesUntilAnAckFreesASlot() {
        var state = State(maxInflight: 2)
        _ = state.connected(sessionPresent: false)
        #expect(state.publish(publish("1", .atLeastOnce), requestID: 1, waiter: 1).packets.count == 1)
        #expect(state.publish(publish("2", .atLeastOnce), requestID: 2, waiter: 2).packets.count == 1)
        #expect(state.publish(publish("3", .atLeastOnce), requestID: 3, waiter: 3).packets.isEmpty)
        // QoS 0 keeps its place in line behind the blocked QoS 1.
        #expect(state.publish(publish("4", .atMostOnce), requestID: 4, waiter: 4).packets.isEmpty)
        let freed = state.pubAck(packetID: 1)
        #expect(succeeded(freed) == [1, 4])
        #expect(freed.packets == [.publish(publish("3", .atLeastOnce, id: 3)), .publish(publish("4", .atMostOnce))])
    }

    @Test func packetIDsWrapAndSkipThoseInFlight() {
        var state = State(maxInflight: 10)
        _ = state.connected(sessionPresent: false)
        _ = state.publish(publish("keep", .atLeastOnce), requestID: 0, waiter: 0)  // id 1 stays in flight
        for id in 2...UInt16.max {
            #expect(state.allocatePacketID() == id)
        }
        #expect(state.allocatePacketID() == 2)  // wrapped, 1 skipped
        let next = state.publish(publish("x", .atLeastOnce), requestID: 1, waiter: 1)
        #expect(next.packets == [.publish(publish("x", .atLeastOnce, id: 3))])
    }

    @Test func subscriptionsAreRestoredOnlyWithoutSession() throws {
        var state = State(maxInflight: 10)
        let filters = [
            MQTTSubscription(filter: "a/#", qos: .atLeastOnce), MQTTSubscription(filter: "b", qos: .exactlyOnce),
        ]
        #expect(state.subscribe(filters, requestID: 1, waiter: 1).packets.isEmpty)
        let first = state.connected(sessionPresent: false)
        #expect(first.packets == [.subscribe(MQTTSubscribe(packetID: 1, filters: filters))])
        let granted = state.subAck(MQTTSubAck(packetID: 1, returnCodes: [.granted(.atLeastOnce), .failure]))
        let completion = try #require(try granted.completions.first?.result.get())
        #expect(completion == .subscribed([.granted(.atLeastOnce), .failure]))
        #expect(state.subscriptions == [filters[0]])

        state.disconnected()
        #expect(state.connected(sessionPresent: true).packets.isEmpty)
        state.disconnected()
        let restored = state.connected(sessionPresent: false)
        #expect(restored.packets == [.subscribe(MQTTSubscribe(packetID: 2, filters: [filters[0]]))])
        #expect(state.subAck(MQTTSubAck(packetID: 2, returnCodes: [.granted(.atMostOnce)])).completions.isEmpty)

        let unsubscribe = state.unsubscribe(["a/#"], requestID: 3, waiter: 3)
        #expect(unsubscribe.packets == [.unsubscribe(MQTTUnsubscribe(packetID: 3, filters: ["a/#"]))])
        #expect(state.subscriptions.isEmpty)
        #expect(succeeded(state.unsubAck(packetID: 3)) == [3])
    }

    @Test func requestsInFlightAreResentAfterReconnect() {
        var state = State(maxInflight: 10)
        _ = state.connected(sessionPresent: false)
        let filters = [MQTTSubscription(filter: "x", qos: .atLeastOnce)]
        #expect(state.subscribe(filters, requestID: 1, waiter: 1).packets.count == 1)
        state.disconnected()
        #expect(
            state.connected(sessionPresent: false).packets == [.subscribe(MQTTSubscribe(packetID: 1, filters: filters))]
        )
    }

    @Test func cancelExpireAndStop() {
        var state = State(maxInflight: 10)
        _ = state.publish(publish("queued", .atLeastOnce), requestID: 1, waiter: 1)
        _ = state.publish(publish("expires", .atLeastOnce), requestID: 2, waiter: 2)
        #expect(failed(state.cancel(requestID: 1)).map(\.0) == [1])
        #expect(failed(state.expire(requestID: 2)).map(\.1) == ["\(MQTTClientError.timeout)"])
        #expect(state.queue.isEmpty)

        _ = state.connected(sessionPresent: false)
        _ = state.publish(publish("sent", .atLeastOnce), requestID: 3, waiter: 3)
        // A sent publish that expires or is cancelled detaches its caller but keeps the message.
        #expect(failed(state.expire(requestID: 3)).map(\.1) == ["\(MQTTClientError.unacknowledged)"])
        #expect(state.cancel(requestID: 3).completions.isEmpty)
        #expect(state.outgoing.count == 1)
        #expect(state.pubAck(packetID: 1).completions.isEmpty)
        _ = state.publish(publish("sent too", .atLeastOnce), requestID: 8, waiter: 8)
        #expect(failed(state.cancel(requestID: 8)).map(\.0) == [8])
        #expect(state.outgoing.count == 1 && state.expire(requestID: 8).completions.isEmpty)
        #expect(state.pubAck(packetID: 2).completions.isEmpty)

        _ = state.publish(publish("pending", .atLeastOnce), requestID: 4, waiter: 4)
        _ = state.subscribe([MQTTSubscription(filter: "s", qos: .atMostOnce)], requestID: 5, waiter: 5)
        state.disconnected()
        _ = state.publish(publish("waiting", .atLeastOnce), requestID: 6, waiter: 6)
        let stopped = state.stop()
        #expect(Set(failed(stopped).map(\.0)) == [4, 5, 6])
        #expect(failed(state.publish(publish("late", .atMostOnce), requestID: 7, waiter: 7)).map(\.0) == [7])
    }
}
