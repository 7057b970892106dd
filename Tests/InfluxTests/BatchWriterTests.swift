import MobyTestSupport
import NIOCore
import Synchronization
import Testing

@testable import Influx

/// The batch writer's grouping and hand-back, with a sink that records what it was given.
@Suite struct BatchWriterTests {
    final class Recorder: Sendable {
        let bodies = Mutex<[String]>([])
        let commits = Mutex<[(receipts: [Int], lines: Int, unreceipted: Int)]>([])
    }

    func point(_ value: Int) -> Point {
        Point(measurement: "m", tags: [], fields: [(key: "v", value: .integer(Int64(value)))], timestamp: Int64(value))
    }

    func withWriter(
        maxLines: Int = 5_000, sinkDelay: Duration = .zero,
        _ body: (BatchWriter<Int>, Recorder) async throws -> Void
    ) async throws {
        let recorder = Recorder()
        let writer = BatchWriter<Int>(
            options: .init(maxLines: maxLines),
            sink: { buffer in
                if sinkDelay > .zero { try? await Task.sleep(for: sinkDelay) }
                recorder.bodies.withLock { $0.append(String(buffer: buffer)) }
            },
            onRefused: { lines in
                Issue.record("nothing is refused here: \(lines.map(\.line))")
                return []
            },
            onCommit: { commit in
                recorder.commits.withLock {
                    $0.append((commit.receipts, commit.lines, commit.unreceiptedLines))
                }
            })
        let running = Task { await writer.run() }
        try await body(writer, recorder)
        await writer.finish()
        await running.value
    }

    @Test func encodedRunsKeepOrderAndNeverOverfillABatch() async throws {
        // A slow sink lets runs pile up behind the first write.
        try await withWriter(maxLines: 10, sinkDelay: .milliseconds(20)) { writer, recorder in
            var next = 0
            for size in [7, 7, 3, 12, 1] {
                var body = ByteBuffer()
                for value in next..<(next + size) { try LineProtocol.encode(point(value), into: &body) }
                // One receipt more than lines: a rejected message acknowledged with its run.
                await writer.append(
                    encoded: body, lines: size, receipts: Array(next..<(next + size)) + [-next - 1], withoutLine: [size]
                )
                next += size
            }
            try await eventually("5 more receipts") {
                recorder.commits.withLock { $0.flatMap(\.receipts) }.count == next + 5
            }
            let commits = recorder.commits.withLock { $0 }
            #expect(commits.flatMap(\.receipts).filter { $0 >= 0 } == Array(0..<next))
            // A batch takes whole runs and stays within maxLines unless one run alone is larger.
            #expect(commits.allSatisfy { $0.lines <= 10 || $0.lines == 12 })
            #expect(commits.map(\.lines).reduce(0, +) == next)
            let lines = recorder.bodies.withLock { $0 }.joined().split(separator: "\n")
            #expect(lines.count == next)
        }
    }

    @Test func aPointWithoutAReceiptIsWrittenOnItsOwn() async throws {
        try await withWriter { writer, recorder in
            try await writer.append(point(7))
            try await eventually("a commit") { !recorder.commits.withLock { $0.isEmpty } }
            #expect(recorder.bodies.withLock { $0 } == ["m v=7i 7\n"])
            #expect(recorder.commits.withLock { $0.map(\.unreceipted) } == [1])
        }
    }

    @Test func receiptsComeBackInOrderOnceTheirBatchIsWritten() async throws {
        try await withWriter { writer, recorder in
            for value in 0..<100 {
                try await writer.append(point(value), receipt: value)
                if value % 10 == 0 { try await writer.append(point(1000 + value)) }
            }
            await writer.append(receiptOnly: 100)
            try await eventually("101 receipts") { recorder.commits.withLock { $0.flatMap(\.receipts) }.count == 101 }
            let commits = recorder.commits.withLock { $0 }
            #expect(commits.flatMap(\.receipts) == Array(0...100))
            #expect(commits.map(\.lines).reduce(0, +) == 110)
            #expect(commits.map(\.unreceipted).reduce(0, +) == 10)
            let lines = recorder.bodies.withLock { $0 }.joined().split(separator: "\n")
            #expect(lines.count == 110)
        }
    }
}
