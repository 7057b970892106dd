import Backoff
import MobyTestSupport
import NIOCore
import Synchronization
import Testing

@testable import Influx
@testable import Spool

/// The batch writer's grouping and hand-back, with a sink that records what it was given.
@Suite(.timeLimit(.minutes(1))) struct BatchWriterTests {
    final class Recorder: Sendable {
        let bodies = Mutex<[String]>([])
        let commits = Mutex<[(receipts: [Int], lines: Int, unreceipted: Int)]>([])
        /// Sink calls begun (a body is recorded when one ends).
        let sinkCalls = Mutex(0)
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
                recorder.sinkCalls.withLock { $0 += 1 }
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
        // Runs after the fault suites (1 in 10) hung here until the suite's time limit; see
        // `ExecutorTicker`.
        ExecutorTicker.ensureRunning()
        // After 20 s, say where the writer and the sink stood.
        @Sendable func whereItStood() async -> String {
            "\(await writer.stateDescription); sink calls \(recorder.sinkCalls.withLock { $0 }), "
                + "bodies \(recorder.bodies.withLock { $0.count }), commits \(recorder.commits.withLock { $0.count })"
        }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(20))
            Issue.record(
                "still running after 20 s: \(await whereItStood()); \(ThreadDump.write(label: "BatchWriterTests"))")
        }
        defer { watchdog.cancel() }
        do {
            try await body(writer, recorder)
        } catch {
            // A wait that timed out: say where the writer stood, then end it.
            Issue.record("the writer when the test gave up: \(await whereItStood())")
            await writer.finish()
            running.cancel()
            throw error
        }
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

    @Test func anOutageSpoolsAcknowledgesOnlyDurableBatchesAndReplaysInOrderMerged() async throws {
        let directory = try TestPaths.scratch("writer-spool")
        let spool = try Spool(directory: directory.path, maxBytes: 1 << 24)
        let down = Atomic<Bool>(true)
        let written = Mutex<[String]>([])
        let commits = Mutex<[(receipts: [Int], spooled: Bool)]>([])
        let writer = BatchWriter<Int>(
            options: .init(maxLines: 20, backoff: Backoff(initial: .milliseconds(5), maximum: .milliseconds(20))),
            spool: spool,
            sink: { body throws(InfluxError) in
                if down.load(ordering: .relaxed) { throw .unavailable("test outage", retryAfter: nil) }
                written.withLock { $0.append(String(buffer: body)) }
            },
            onRefused: { _ in [] },
            onCommit: { commit in
                // Durable when handed back: on disk if spooled, in "InfluxDB" otherwise.
                if commit.spooled {
                    #expect(spool.depth.lines >= commit.spooledLines, "spooled before acknowledged")
                } else {
                    #expect(written.withLock { $0.joined() }.contains("v=\(commit.receipts.last ?? -1)i"))
                }
                commits.withLock { $0.append((commit.receipts, commit.spooled)) }
            })
        let running = Task { await writer.run() }
        for value in 0..<40 {
            // Slower than the writer's linger while InfluxDB is down: one small spooled batch each.
            try await writer.append(point(value), receipt: value)
            try await Task.sleep(for: .milliseconds(25))
        }
        try await eventually("every receipt handed back while InfluxDB is down") {
            commits.withLock { $0.flatMap(\.receipts) }.count == 40
        }
        #expect(written.withLock { $0.isEmpty }, "nothing reached InfluxDB")
        #expect(commits.withLock { $0.allSatisfy(\.spooled) })
        #expect(spool.depth.lines == 40)

        down.store(false, ordering: .relaxed)
        for value in 40..<45 { try await writer.append(point(value), receipt: value) }
        try await eventually("the spool replayed") { spool.depth.lines == 0 && written.withLock { $0.count } > 0 }
        try await eventually("the new readings written") { commits.withLock { $0.flatMap(\.receipts) }.count == 45 }
        await writer.finish()
        await running.value

        let receipts = commits.withLock { $0.flatMap(\.receipts) }
        #expect(receipts == Array(0..<45), "each receipt once, in append order")
        let lines = written.withLock { $0.joined() }.split(separator: "\n").map(String.init)
        #expect(Set(lines).count == 45 && lines.count == 45, "every line stored once")
        let stamps = lines.compactMap { Int($0.split(separator: " ").last ?? "") }
        #expect(stamps.filter { $0 < 40 } == Array(0..<40), "replayed oldest first")
        // Dozens of one-line spooled batches come back merged, up to a full batch per write.
        let writes = written.withLock { $0.map { $0.split(separator: "\n").count } }
        #expect(writes.count <= 4 && writes.first == 20, "lines per write: \(writes)")
    }
    @Test func linesSpooledOneAtATimeAreEachReplayedBeforeTheNext() async throws {
        // Each line fails its first write (so it is spooled) and succeeds when replayed; the next
        // line is appended as soon as the last one is stored, so the replay loop is woken for
        // every record, often while it is still removing the last one or looking at the spool.
        // (The rarest interleaving, a look at the spool that finds it empty on a disk thread and
        // comes back after a batch was spooled, cannot be forced from here; the replay loop
        // counts spooled batches so that it never parks after one it did not see.)
        let directory = try TestPaths.scratch("writer-replay-race")
        let spool = try Spool(directory: directory.path, maxBytes: 1 << 24)
        let tried = Mutex<Set<Substring>>([])
        let stored = Mutex<[Int]>([])
        let writer = BatchWriter<Int>(
            options: .init(maxLines: 20, backoff: Backoff(initial: .milliseconds(1), maximum: .milliseconds(2))),
            spool: spool,
            sink: { body throws(InfluxError) in
                let lines = String(buffer: body).split(separator: "\n")
                let fresh = tried.withLock { tried in lines.filter { tried.insert($0).inserted } }
                if !fresh.isEmpty { throw .unavailable("first attempt", retryAfter: nil) }
                stored.withLock { $0.append(contentsOf: lines.compactMap { Int($0.split(separator: " ").last ?? "") }) }
            },
            onRefused: { _ in [] },
            onCommit: { _ in })
        let running = Task { await writer.run() }
        for value in 0..<150 {
            try await writer.append(point(value), receipt: value)
            try await eventually("line \(value) replayed", timeout: .seconds(15), interval: .microseconds(100)) {
                stored.withLock { $0.last == value }
            }
        }
        await writer.finish()
        await running.value
        #expect(stored.withLock { $0 } == Array(0..<150), "every line stored once, in order")
        #expect(spool.depth.lines == 0)
    }
}
