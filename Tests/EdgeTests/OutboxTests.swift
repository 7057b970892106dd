import Edge
import Foundation
import MobyTestSupport
import Spool
import Testing

@Suite struct OutboxTests {
    func message(_ index: Int) -> Outbox.Message {
        Outbox.Message(topic: "factory/sensor/data/d\(index % 3)", payload: Array("{\"i\":\(index)}".utf8))
    }

    @Test func survivesARestartAndComesOutOldestFirst() async throws {
        let directory = try TestPaths.scratch("outbox").path
        do {
            let outbox = try Outbox(directory: directory, maxBytes: 1 << 20)
            for group in 0..<10 { try await outbox.append((0..<7).map { message(group * 7 + $0) }) }
            // Send and remove the first group before the "crash".
            let first = try #require(try await outbox.next(maxMessages: 7))
            #expect(first.messages == (0..<7).map(message))
            try await outbox.remove(first)
        }
        let reopened = try Outbox(directory: directory, maxBytes: 1 << 20)
        #expect(reopened.depth.lines == 63)
        var seen: [Outbox.Message] = []
        while let batch = try await reopened.next(maxMessages: 20) {
            seen += batch.messages
            try await reopened.remove(batch)
        }
        #expect(seen == (7..<70).map(message))
        #expect(reopened.depth.lines == 0)
    }

    @Test func refusesNewReadingsWhenFullAndKeepsTheOldOnes() async throws {
        let directory = try TestPaths.scratch("outbox-full").path
        let outbox = try Outbox(directory: directory, maxBytes: 4096)
        var accepted = 0
        var refused = 0
        for index in 0..<500 {
            do {
                try await outbox.append([message(index)])
                accepted += 1
            } catch {
                refused += 1
            }
        }
        #expect(accepted > 0 && refused > 0)
        #expect(outbox.depth.bytes <= 4096)
        let oldest = try #require(try await outbox.next(maxMessages: 1))
        #expect(oldest.messages.first == message(0))
    }
}
