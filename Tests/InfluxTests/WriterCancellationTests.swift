import Foundation
import MobyTestSupport
import NIOCore
import Spool
import Synchronization
import Testing

@testable import Influx

/// Every wait of the batch writer ends when its task is cancelled (a cancelled service group
/// must see `run()` return), and nothing is acknowledged that was not made durable (issue 15).
@Suite(.timeLimit(.minutes(1))) struct WriterCancellationTests {
    /// Whichever comes first: the operation's end or the time limit.
    final class Race: Sendable {
        let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)

        func decide(_ value: Bool) {
            continuation.withLock { waiting in
                waiting?.resume(returning: value)
                waiting = nil
            }
        }
    }

    /// True when `operation` finishes within `limit`; false (and it is left running) otherwise, so
    /// a hang fails the test instead of hanging it.
    func finishes(within limit: Duration, _ operation: @escaping @Sendable () async -> Void) async -> Bool {
        let race = Race()
        return await withCheckedContinuation { continuation in
            race.continuation.withLock { $0 = continuation }
            Task {
                await operation()
                race.decide(true)
            }
            Task {
                try? await Task.sleep(for: limit)
                race.decide(false)
            }
        }
    }

    func lines(_ values: Range<Int>) -> ByteBuffer {
        ByteBuffer(string: values.map { "m v=\($0)i \($0)\n" }.joined())
    }

    @Test func anIdleWriterWithASpoolStopsWhenCancelled() async throws {
        let spool = try Spool(directory: try TestPaths.scratch("writer-cancel").path, maxBytes: 1 << 20)
        let writer = BatchWriter<Int>(
            spool: spool, sink: { _ in }, onRefused: { _ in [] }, onCommit: { _ in })
        let running = Task { await writer.run() }
        try await Task.sleep(for: .milliseconds(50))  // both loops are waiting for work now
        running.cancel()
        #expect(await finishes(within: .seconds(2)) { await running.value })
    }

    @Test func cancelledMidStreamNothingIsAcknowledgedThatIsNotDurable() async throws {
        let committed = Mutex<[Int]>([])
        let writes = Mutex(0)
        // InfluxDB hangs on the first write: the batch stays in flight, the next fills up, and
        // an appender waits for room.
        let writer = BatchWriter<Int>(
            options: .init(maxLines: 2),
            sink: { _ throws(InfluxError) in
                writes.withLock { $0 += 1 }
                try? await Task.sleep(for: .seconds(3600))
                throw .unavailable("cancelled", retryAfter: nil)
            },
            onRefused: { _ in [] },
            onCommit: { commit in committed.withLock { $0.append(contentsOf: commit.receipts) } })
        let running = Task { await writer.run() }
        await writer.append(encoded: lines(0..<2), lines: 2, receipts: [0, 1], withoutLine: [])
        while writes.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        await writer.append(encoded: lines(2..<4), lines: 2, receipts: [2, 3], withoutLine: [])
        let appender = Task {
            await writer.append(encoded: lines(4..<6), lines: 2, receipts: [4, 5], withoutLine: [])
        }
        try await Task.sleep(for: .milliseconds(50))  // the appender is waiting for room
        appender.cancel()
        let appenderEnded = await finishes(within: .seconds(2)) { _ = await appender.value }
        #expect(appenderEnded, "an appender waiting for room did not end on cancellation")
        if appenderEnded { #expect(await appender.value == false) }
        running.cancel()
        #expect(await finishes(within: .seconds(2)) { await running.value })
        #expect(committed.withLock { $0 }.isEmpty)
    }
}
