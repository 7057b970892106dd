import Foundation
import MobyTestSupport
import Synchronization
import Testing

@testable import MQTT

/// The client against a real Mosquitto (started per test on a free port).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ClientIntegrationTests {
    /// Read gathering (ingest's light-traffic batching) never holds back the PUBACKs our own
    /// QoS 1 publishes wait for (`POST /publish` waited about 20 ms per reading before).
    @Test func ownPublishesAreNotHeldBackByReadGathering() async throws {
        try await TestBroker.with { broker in
            let client = try await RunningClient.connected(
                makeClient(port: broker.port, id: "gathering") { $0.readGathering = .seconds(3) })
            let payload = ByteBuffer(string: "r")
            // A first exchange puts the connection in its gathering rhythm (a light burst read).
            try await client.client.publish(topic: "moby/gather", payload: payload, qos: .atLeastOnce)
            let started = ContinuousClock.now
            for _ in 0..<3 {
                try await client.client.publish(
                    topic: "moby/gather", payload: payload, qos: .atLeastOnce, timeout: .seconds(20))
            }
            // Held back, each PUBACK would wait for the next gathered read, up to 3 s.
            let took = ContinuousClock.now - started
            #expect(took < .seconds(2), "three QoS 1 publishes took \(took)")
            await client.stop()
        }
    }

    @Test(arguments: [MQTTQoS.atMostOnce, .atLeastOnce, .exactlyOnce])
    func publishAndReceive(qos: MQTTQoS) async throws {
        try await TestBroker.with { broker in
            let subscriber = try await RunningClient.connected(makeClient(port: broker.port, id: "sub-\(qos)"))
            let publisher = try await RunningClient.connected(makeClient(port: broker.port, id: "pub-\(qos)"))
            let collector = Collector(subscriber.client)
            let granted = try await subscriber.client.subscribe([("moby/qos/#", qos)])
            #expect(granted == [qos])

            let payloads: [[UInt8]] = [[], [0, 1, 2, 0xFF], Array(repeating: 0xA5, count: 70_000), Array("hé".utf8)]
            for (index, payload) in payloads.enumerated() {
                try await publisher.client.publish(
                    topic: "moby/qos/\(index)", payload: ByteBuffer(bytes: payload), qos: qos)
            }
            let received = try await collector.wait(for: payloads.count)
            #expect(received.map(\.topic) == (0..<payloads.count).map { "moby/qos/\($0)" })
            #expect(received.map { Array($0.payload.readableBytesView) } == payloads)
            #expect(received.allSatisfy { $0.qos == qos && !$0.duplicate && !$0.retain })
            #expect(received.allSatisfy { (qos == .atMostOnce) == ($0.packetID == nil) })
            #expect(publisher.client.session.inflightCount == 0)

            await publisher.stop()
            await subscriber.stop()
            collector.cancel()
        }
    }

    @Test func aBatchPublishArrivesWholeAndInOrder() async throws {
        try await TestBroker.with { broker in
            let subscriber = try await RunningClient.connected(makeClient(port: broker.port, id: "batch-sub"))
            let collector = Collector(subscriber.client)
            try await subscriber.client.subscribe([("moby/batch/#", .atLeastOnce)])
            let publisher = try await RunningClient.connected(
                makeClient(port: broker.port, id: "batch-pub") { $0.maxInflightOutgoing = 100 })
            let messages = (0..<3_000).map {
                MQTTOutgoingMessage(topic: "moby/batch/\($0 % 7)", payload: ByteBuffer(string: "\($0)"))
            }
            try await publisher.client.publish(contentsOf: messages, qos: .atLeastOnce)
            #expect(publisher.client.session.inflightCount == 0, "returns once every one is acknowledged")
            let received = try await collector.wait(for: messages.count)
            #expect(received.map(\.text) == (0..<3_000).map { "\($0)" })

            // One bad topic refuses the whole call before anything is sent.
            let bad =
                [MQTTOutgoingMessage(topic: "moby/batch/ok", payload: ByteBuffer(string: "never"))]
                + [MQTTOutgoingMessage(topic: "moby/+/wild", payload: ByteBuffer(string: "x"))]
            await #expect(throws: MQTTClientError.invalidTopic("moby/+/wild")) {
                try await publisher.client.publish(contentsOf: bad, qos: .atLeastOnce)
            }
            try await publisher.client.publish(
                topic: "moby/batch/end", payload: ByteBuffer(string: "end"), qos: .atLeastOnce)
            let last = try await collector.wait(for: messages.count + 1)
            #expect(last.last?.text == "end", "nothing of the refused call was published")
            await publisher.stop()
            await subscriber.stop()
            collector.cancel()
        }
    }

    @Test func lightTrafficIsReadInGatheredRuns() async throws {
        try await TestBroker.with { broker in
            let subscriber = try await RunningClient.connected(
                makeClient(port: broker.port, id: "gather-sub") { $0.readGathering = .milliseconds(30) })
            try await subscriber.client.subscribe([("moby/gather", .atLeastOnce)])
            let publisher = try await RunningClient.connected(makeClient(port: broker.port, id: "gather-pub"))
            let client = subscriber.client
            let consumer = Task {
                var sizes: [Int] = []
                for await run in client.messages.runs(upTo: 1_024) {
                    sizes.append(run.count)
                    client.acknowledge(contentsOf: run)
                    if sizes.reduce(0, +) >= 100 { break }
                }
                return sizes
            }
            let started = ContinuousClock.now
            for index in 0..<100 {
                try await publisher.client.publish(
                    topic: "moby/gather", payload: ByteBuffer(string: "\(index)"), qos: .atLeastOnce)
                try await Task.sleep(for: .milliseconds(2))
            }
            let sizes = await consumer.value
            let elapsed = ContinuousClock.now - started
            #expect(sizes.reduce(0, +) == 100, "every message arrives")
            // At least 2 ms apart and gathered for 30 ms: about one run per 30 ms of publishing,
            // not one per message (a loaded machine publishes slower, so the bound follows the
            // time it took).
            let gathered = Int(elapsed / .milliseconds(30)) + 3
            #expect(sizes.count <= min(gathered, 50), "runs: \(sizes) in \(elapsed)")
            await publisher.stop()
            await subscriber.stop()
        }
    }

    @Test func retainedMessageIsDeliveredToLateSubscriber() async throws {
        try await TestBroker.with { broker in
            let publisher = try await RunningClient.connected(makeClient(port: broker.port, id: "retain-pub"))
            try await publisher.client.publish(
                topic: "moby/retained", payload: ByteBuffer(string: "kept"), qos: .atLeastOnce, retain: true)
            let subscriber = try await RunningClient.connected(makeClient(port: broker.port, id: "retain-sub"))
            let collector = Collector(subscriber.client)
            try await subscriber.client.subscribe([("moby/retained", .atLeastOnce)])
            let message = try #require(try await collector.wait(for: 1).first)
            #expect(message.retain && message.text == "kept")
            await publisher.stop()
            await subscriber.stop()
        }
    }

    @Test func unacknowledgedMessagesAreRedeliveredAfterReconnect() async throws {
        try await TestBroker.with { broker in
            let subscriber = try await RunningClient.connected(
                makeClient(port: broker.port, id: "manual-ack", cleanSession: false))
            let collector = Collector(subscriber.client, autoAck: false)
            try await subscriber.client.subscribe([("moby/ack", .atLeastOnce)])
            let publisher = try await RunningClient.connected(makeClient(port: broker.port, id: "ack-pub"))
            for index in 0..<5 {
                try await publisher.client.publish(
                    topic: "moby/ack", payload: ByteBuffer(string: "m\(index)"), qos: .atLeastOnce)
            }
            let first = try await collector.wait(for: 5)
            #expect(first.map(\.text) == ["m0", "m1", "m2", "m3", "m4"])
            #expect(first.allSatisfy { !$0.duplicate })

            // Kill the TCP connection without acknowledging: the broker must redeliver with DUP.
            let events = subscriber.client.connectionEvents()
            await subscriber.client.dropConnection()
            var iterator = events.makeAsyncIterator()
            #expect(await iterator.next() == .disconnected(.connectionClosed))
            #expect(await iterator.next() == .connected(sessionPresent: true))
            // Acknowledging on the new connection what arrived on the old one does nothing.
            for message in first { subscriber.client.acknowledge(message) }

            let redelivered = Array(try await collector.wait(for: 10)[5...])
            #expect(redelivered.map(\.text) == ["m0", "m1", "m2", "m3", "m4"])
            #expect(redelivered.allSatisfy { $0.duplicate })
            #expect(redelivered.allSatisfy { $0.connectionGeneration > first[0].connectionGeneration })
            for message in redelivered { subscriber.client.acknowledge(message) }

            // After the acks, another reconnect brings nothing back: the next message is a new one.
            try await Task.sleep(for: .milliseconds(200))
            await subscriber.client.dropConnection()
            #expect(await iterator.next() == .disconnected(.connectionClosed))
            #expect(await iterator.next() == .connected(sessionPresent: true))
            try await publisher.client.publish(
                topic: "moby/ack", payload: ByteBuffer(string: "next"), qos: .atLeastOnce)
            let after = try await collector.wait(for: 11)
            #expect(after.count == 11)
            #expect(after.last?.text == "next" && after.last?.duplicate == false)
            try await Task.sleep(for: .milliseconds(200))
            #expect(collector.count == 11)

            await publisher.stop()
            await subscriber.stop()
        }
    }

    @Test func publishesWaitForTheBrokerAndCompleteAfterRestart() async throws {
        try await TestBroker.with { broker in
            let subscriber = try await RunningClient.connected(
                makeClient(port: broker.port, id: "resume-sub", cleanSession: false))
            let collector = Collector(subscriber.client)
            try await subscriber.client.subscribe([("moby/resume", .exactlyOnce)])
            let publisher = try await RunningClient.connected(
                makeClient(port: broker.port, id: "resume-pub", cleanSession: false))
            let subscriberEvents = subscriber.client.connectionEvents()

            broker.stop()
            try await eventually("publisher to notice") { !publisher.client.isConnected }
            let done = Counter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<6 {
                    let qos: MQTTQoS = index.isMultiple(of: 2) ? .atLeastOnce : .exactlyOnce
                    group.addTask {
                        try await publisher.client.publish(
                            topic: "moby/resume", payload: ByteBuffer(string: "r\(index)"), qos: qos)
                        done.increment()
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(done.value == 0)
                try await broker.start()
                try await group.waitForAll()
            }
            #expect(done.value == 6)
            let received = try await collector.wait(for: 6)
            #expect(Set(received.map(\.text)) == Set((0..<6).map { "r\($0)" }))
            // Mosquitto saved the persistent session on SIGTERM and restored it.
            var events = subscriberEvents.makeAsyncIterator()
            var event = await events.next()
            while case .disconnected = event { event = await events.next() }
            #expect(event == .connected(sessionPresent: true))
            await publisher.stop()
            await subscriber.stop()
        }
    }

    @Test func inflightPublishesAreResentWhenTheBrokerDiesBeforeAcknowledging() async throws {
        try await TestBroker.with { broker in
            let subscriber = try await RunningClient.connected(
                makeClient(port: broker.port, id: "inflight-sub", cleanSession: false))
            let collector = Collector(subscriber.client)
            try await subscriber.client.subscribe([("moby/inflight", .atLeastOnce)])
            let publisher = try await RunningClient.connected(
                makeClient(port: broker.port, id: "inflight-pub", cleanSession: false))
            try await Task.sleep(for: .milliseconds(2500))  // SIGKILL below: wait for an autosave

            // Freeze the broker: PUBLISH/PUBREL reach its socket but are never acknowledged.
            let pid = try #require(broker.process.pid)
            kill(pid, SIGSTOP)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<4 {
                    let qos: MQTTQoS = index < 2 ? .atLeastOnce : .exactlyOnce
                    group.addTask {
                        try await publisher.client.publish(
                            topic: "moby/inflight", payload: ByteBuffer(string: "f\(index)"), qos: qos)
                    }
                }
                try await eventually("4 publishes in flight") { publisher.client.session.inflightCount == 4 }
                broker.stop(signal: SIGKILL)
                try await broker.start()
                try await group.waitForAll()
            }
            #expect(publisher.client.session.inflightCount == 0)
            let received = try await collector.wait(for: 4)
            #expect(Set(received.map(\.text)) == ["f0", "f1", "f2", "f3"])
            await publisher.stop()
            await subscriber.stop()
        }
    }

    @Test func subscriptionsAreRestoredAfterBrokerRestart() async throws {
        try await TestBroker.with { broker in
            let subscriber = try await RunningClient.connected(makeClient(port: broker.port, id: "restore-sub"))
            let events = subscriber.client.connectionEvents()
            let collector = Collector(subscriber.client)
            try await subscriber.client.subscribe([("moby/restore/+", .atLeastOnce)])
            let publisher = try await RunningClient.connected(makeClient(port: broker.port, id: "restore-pub"))
            try await publisher.client.publish(
                topic: "moby/restore/a", payload: ByteBuffer(string: "before"), qos: .atLeastOnce)
            try await collector.wait(for: 1)

            broker.stop()
            try await broker.start()
            var iterator = events.makeAsyncIterator()
            let lost = await iterator.next()
            #expect(lost == .disconnected(.connectionClosed) || lost.map { "\($0)".contains("reset") } == true)
            var next = await iterator.next()
            while case .disconnected = next { next = await iterator.next() }
            // Clean session: the broker forgot us, the client re-subscribes by itself.
            #expect(next == .connected(sessionPresent: false))
            try await eventually("publisher to reconnect") { publisher.client.isConnected }
            // The re-subscription is in place once a probe gets through (nothing here says when
            // the broker's SUBACK came; probes sent before it are simply not delivered).
            try await eventually("subscription restored", timeout: .seconds(20), interval: .milliseconds(100)) {
                try await publisher.client.publish(
                    topic: "moby/restore/probe", payload: ByteBuffer(string: "probe"), qos: .atLeastOnce)
                return collector.messages.contains { $0.text == "probe" }
            }

            try await publisher.client.publish(
                topic: "moby/restore/b", payload: ByteBuffer(string: "after"), qos: .atLeastOnce)
            try await eventually("the message after the restart") { collector.messages.contains { $0.text == "after" } }
            #expect(collector.messages.map(\.text).filter { $0 != "probe" } == ["before", "after"])
            await publisher.stop()
            await subscriber.stop()
        }
    }

    @Test func unsubscribeStopsDelivery() async throws {
        try await TestBroker.with { broker in
            let subscriber = try await RunningClient.connected(makeClient(port: broker.port, id: "unsub-sub"))
            let collector = Collector(subscriber.client)
            try await subscriber.client.subscribe([("moby/un/a", .atLeastOnce), ("moby/un/b", .atLeastOnce)])
            let publisher = try await RunningClient.connected(makeClient(port: broker.port, id: "unsub-pub"))
            try await publisher.client.publish(topic: "moby/un/a", payload: ByteBuffer(string: "a1"), qos: .atLeastOnce)
            try await collector.wait(for: 1)

            try await subscriber.client.unsubscribe(["moby/un/a"])
            #expect(subscriber.client.session.subscriptions.map(\.filter) == ["moby/un/b"])
            try await publisher.client.publish(topic: "moby/un/a", payload: ByteBuffer(string: "a2"), qos: .atLeastOnce)
            try await publisher.client.publish(topic: "moby/un/b", payload: ByteBuffer(string: "b1"), qos: .atLeastOnce)
            try await collector.wait(for: 2)
            try await Task.sleep(for: .milliseconds(100))
            #expect(collector.messages.map(\.text) == ["a1", "b1"])
            await publisher.stop()
            await subscriber.stop()
        }
    }

    @Test func badCredentialsAreReportedClearly() async throws {
        try await AuthBroker.with { _, port in
            let wrong = makeClient(port: port, id: "bad-creds") {
                $0.username = "moby"
                $0.password = "wrong"
                $0.reconnect = nil
            }
            await #expect(throws: MQTTClientError.connectionRefused(.notAuthorized)) { try await wrong.run() }

            // With reconnect on, the refusal is reported on every attempt and run() keeps going.
            let retrying = makeClient(port: port, id: "bad-creds-retry") { $0.username = "nobody" }
            let events = retrying.connectionEvents()
            let running = RunningClient(retrying)
            var refusals = 0
            for await event in events {
                #expect(event == .disconnected(.connectionRefused(.notAuthorized)))
                refusals += 1
                if refusals == 3 { break }
            }
            #expect(!retrying.isConnected)
            await running.stop()
            #expect(String(describing: MQTTClientError.connectionRefused(.notAuthorized)).contains("not authorized"))

            let right = try await RunningClient.connected(
                makeClient(port: port, id: "good-creds") {
                    $0.username = "moby"
                    $0.password = "s3cret"
                })
            // Filters Mosquitto would answer by closing the connection are refused before sending.
            await #expect(throws: MQTTClientError.invalidTopic("moby/#/bad")) {
                try await right.client.subscribe([("moby/#/bad", .atLeastOnce)])
            }
            #expect(right.client.isConnected)
            await right.stop()
        }
    }

    @Test func unreachableBrokerGivesAClearError() async throws {
        let port = Loopback.freePort()
        let client = makeClient(port: port, id: "nobody-home") { $0.reconnect = nil }
        do {
            try await client.run()
            Issue.record("run() should have thrown")
        } catch let error as MQTTClientError {
            guard case .connectionFailed(let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(reason.lowercased().contains("refused"))
        }
        await #expect(throws: MQTTClientError.shutdown) {
            try await client.publish(topic: "t", payload: ByteBuffer(), qos: .atLeastOnce)
        }
    }

    @Test func keepAlivePingsAndDetectsADeadBroker() async throws {
        try await TestBroker.with { broker in
            let client = makeClient(port: broker.port, id: "keepalive") {
                // Mosquitto drops a client silent for 1.5 keep-alives: 2 s leaves the ping 1 s of
                // margin on a loaded machine.
                $0.keepAlive = .seconds(2)
                $0.pingTimeout = .seconds(2)
                $0.connectTimeout = .milliseconds(500)
            }
            let events = client.connectionEvents()
            let running = try await RunningClient.connected(client)
            var iterator = events.makeAsyncIterator()
            #expect(await iterator.next() == .connected(sessionPresent: false))
            // Idle for twice the keep-alive: PINGREQ keeps Mosquitto from dropping us.
            try await Task.sleep(for: .seconds(5))
            #expect(client.isConnected)

            let pid = try #require(broker.process.pid)
            kill(pid, SIGSTOP)
            let start = ContinuousClock.now
            #expect(await iterator.next() == .disconnected(.keepAliveTimeout))
            // Noticed by keep-alive, not by TCP (minutes); generous for a loaded CI machine.
            #expect(ContinuousClock.now - start < .seconds(15))
            kill(pid, SIGCONT)
            var next = await iterator.next()
            while case .disconnected = next { next = await iterator.next() }
            #expect(next == .connected(sessionPresent: false))
            await running.stop()
        }
    }

    @Test func publishTimeoutAndShutdownWhileDisconnected() async throws {
        let client = makeClient(port: Loopback.freePort(), id: "offline")
        await #expect(throws: MQTTClientError.timeout) {
            try await client.publish(
                topic: "t", payload: ByteBuffer(), qos: .atLeastOnce, timeout: .milliseconds(100))
        }
        await #expect(throws: MQTTClientError.timeout) {
            try await client.publish(topic: "t", payload: ByteBuffer(), qos: .atMostOnce, timeout: .milliseconds(100))
        }
        await #expect(throws: MQTTClientError.invalidTopic("a/#")) {
            try await client.publish(topic: "a/#", payload: ByteBuffer(), qos: .atMostOnce)
        }
        await #expect(throws: MQTTClientError.packetTooLarge(size: 1_048_577, limit: 1_048_576)) {
            try await client.publish(
                topic: "t", payload: ByteBuffer(repeating: 0, count: 1_048_567), qos: .atLeastOnce)
        }
        await #expect(throws: MQTTClientError.invalidTopic("a/#/b")) {
            try await client.subscribe([("a/#/b", .atLeastOnce)])
        }
        let running = RunningClient(client)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await #expect(throws: MQTTClientError.shutdown) {
                    try await client.publish(topic: "t", payload: ByteBuffer(), qos: .exactlyOnce)
                }
            }
            group.addTask {
                await #expect(throws: MQTTClientError.shutdown) { try await client.subscribe([("t", .atLeastOnce)]) }
            }
            try await Task.sleep(for: .milliseconds(200))
            await running.stop()
            try await group.waitForAll()
        }
        await #expect(throws: MQTTClientError.shutdown) { try await client.run() }
        var messages = client.messages.makeAsyncIterator()
        #expect(await messages.next() == nil)
    }

    @Test func cancellingRunDisconnects() async throws {
        try await TestBroker.with { broker in
            let client = makeClient(port: broker.port, id: "cancel-run")
            let task = Task { try await client.run() }
            try await eventually("connect") { client.isConnected }
            task.cancel()
            try await task.value
            #expect(!client.isConnected)
        }
    }

    @Test func fullInboundBufferStopsReadingWithoutDropping() async throws {
        try await TestBroker.with { broker in
            let subscriber = try await RunningClient.connected(
                makeClient(port: broker.port, id: "slow-sub") { $0.inboundBufferSize = 20 })
            try await subscriber.client.subscribe([("moby/slow", .atLeastOnce)])
            let publisher = try await RunningClient.connected(makeClient(port: broker.port, id: "slow-pub"))
            // 10 MB: more than the socket buffers can hide.
            let total = 500
            let filler = String(repeating: "x", count: 20_000)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<10 {
                    group.addTask {
                        for index in stride(from: worker, to: total, by: 10) {
                            try await publisher.client.publish(
                                topic: "moby/slow", payload: ByteBuffer(string: "s\(index) \(filler)"),
                                qos: .atLeastOnce)
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Nobody consumes yet: the client stopped reading near the buffer's capacity.
            try await Task.sleep(for: .milliseconds(300))
            let buffered = subscriber.client.session.inbound.count
            #expect(buffered >= 20 && buffered < 100)
            #expect(subscriber.client.isConnected)

            let collector = Collector(subscriber.client)
            let received = try await collector.wait(for: total)
            #expect(Set(received.map { $0.text.prefix { $0 != " " } }) == Set((0..<total).map { "s\($0)" }))
            #expect(
                received.allSatisfy { $0.payload.readableBytes == 20_001 + "\($0.text.prefix { $0 != " " })".count })
            await publisher.stop()
            await subscriber.stop()
        }
    }

    /// A caller that awaits a PUBACK while nobody consumes (ingest awaiting a run's dead letters)
    /// must get an answer though the inbound buffer is full: the acknowledgement comes through
    /// the same socket, behind the messages the buffer has no room for.
    @Test(arguments: [(flood: 12, acknowledged: true), (flood: 300, acknowledged: false)])
    func aPublisherWaitingBehindAFullBufferGetsAnAnswer(flood: Int, acknowledged: Bool) async throws {
        try await TestBroker.with { broker in
            let subscriber = try await RunningClient.connected(
                makeClient(port: broker.port, id: "held-sub") { $0.inboundBufferSize = 8 })
            try await subscriber.client.subscribe([("moby/flood", .atMostOnce)])
            let publisher = try await RunningClient.connected(makeClient(port: broker.port, id: "flooder"))
            // QoS 0: no in-flight window on the broker's side bounds what it sends.
            try await publisher.client.publish(
                contentsOf: (0..<flood).map {
                    MQTTOutgoingMessage(topic: "moby/flood", payload: ByteBuffer(string: "f\($0)"))
                },
                qos: .atMostOnce)
            try await eventually("the subscriber's buffer to fill") { subscriber.client.session.inbound.count >= 8 }
            try await Task.sleep(for: .milliseconds(200))
            // Behind 12 messages the answer is read (reading goes on to twice the capacity while
            // an answer is awaited); behind 300 it is not, and the wait ends at its timeout.
            let outcome = await withTaskGroup(of: String?.self) { group in
                group.addTask {
                    do {
                        try await subscriber.client.publish(
                            topic: "moby/answer", payload: ByteBuffer(string: "a"), qos: .atLeastOnce,
                            timeout: .seconds(2))
                        return "acknowledged"
                    } catch {
                        return "\(error)"
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(30))
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            let expected = acknowledged ? "acknowledged" : "\(MQTTClientError.unacknowledged)"
            #expect(outcome == expected, "the publisher waited 30 s without an answer")
            // Nothing was dropped, and the link still works.
            let collector = Collector(subscriber.client)
            try await collector.wait(for: flood)
            #expect(collector.messages.map(\.text) == (0..<flood).map { "f\($0)" })
            try await subscriber.client.publish(
                topic: "moby/answer", payload: ByteBuffer(string: "b"), qos: .atLeastOnce, timeout: .seconds(10))
            await publisher.stop()
            await subscriber.stop()
        }
    }

    @Test func tenThousandQoS1Messages() async throws {
        try await TestBroker.with { broker in
            let subscriber = try await RunningClient.connected(
                makeClient(port: broker.port, id: "bulk-sub", cleanSession: false))
            let collector = Collector(subscriber.client)
            try await subscriber.client.subscribe([("moby/bulk", .atLeastOnce)])
            let publisher = try await RunningClient.connected(makeClient(port: broker.port, id: "bulk-pub"))

            let total = 10_000
            let workers = 100
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        for index in stride(from: worker, to: total, by: workers) {
                            try await publisher.client.publish(
                                topic: "moby/bulk", payload: ByteBuffer(string: "reading-\(index)"), qos: .atLeastOnce)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let published = ContinuousClock.now - start
            let received = try await collector.wait(for: total, timeout: .seconds(30))
            let elapsed = ContinuousClock.now - start
            try await Task.sleep(for: .milliseconds(200))

            #expect(collector.count == total)
            let texts = received.map(\.text)
            #expect(Set(texts).count == total)
            #expect(Set(texts) == Set((0..<total).map { "reading-\($0)" }))
            #expect(received.allSatisfy { $0.topic == "moby/bulk" && $0.qos == .atLeastOnce })
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                "MQTT bulk: \(total) QoS 1 messages published in \(published), received in \(elapsed): \(Int(Double(total) / seconds)) msg/s"
            )
            await publisher.stop()
            await subscriber.stop()
        }
    }
}
