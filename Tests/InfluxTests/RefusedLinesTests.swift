import Backoff
import Foundation
import MobyTestSupport
import NIOCore
import Spool
import Synchronization
import Testing

@testable import Influx

/// Stands in for InfluxDB's write endpoint in these unit tests only (the integration tests use
/// the real one): it stores every line its rule accepts and, when some line is refused, answers
/// like InfluxDB 1.x does for a partial write — HTTP 400 naming one example and `dropped=N`
/// (or `dropped=0`, as InfluxDB says for unparsable lines). While `down` it answers 503.
final class PartialWriteInflux: Sendable {
    struct State {
        var stored: Set<String> = []
        var requests = 0
        var down = false
        /// Goes down on this request (1-based).
        var downOnRequest: Int?
    }

    let state = Mutex(State())
    let refuses: @Sendable (String) -> Bool
    let reportsDropped: Bool

    init(reportsDropped: Bool = true, refuses: @escaping @Sendable (String) -> Bool) {
        self.reportsDropped = reportsDropped
        self.refuses = refuses
    }

    var stored: Set<String> { state.withLock { $0.stored } }
    var requests: Int { state.withLock { $0.requests } }
    func setDown(_ down: Bool) { state.withLock { $0.down = down } }

    func write(_ body: ByteBuffer) throws(InfluxError) {
        let lines = String(buffer: body).split(separator: "\n").map(String.init)
        let refused: [String] = try state.withLock { state throws(InfluxError) in
            state.requests += 1
            if state.downOnRequest == state.requests { state.down = true }
            if state.down { throw InfluxError.unavailable("HTTP 503: down", retryAfter: nil) }
            let refused = lines.filter(refuses)
            state.stored.formUnion(lines.filter { !refuses($0) })
            return refused
        }
        guard let example = refused.first else { return }
        throw .rejected(
            status: 400,
            message: "partial write: field type conflict: input field \"v\" in \(example) is type string, "
                + "already exists as type float dropped=\(reportsDropped ? refused.count : 0)",
            badLines: [])
    }
}

/// What the writer reported, in order: refusals and commits.
final class WriterLog: Sendable {
    enum Entry: Sendable {
        case refused([BatchWriter<Int>.RefusedLine])
        case commit(BatchWriter<Int>.Commit)
    }

    let entries = Mutex<[Entry]>([])

    var refused: [BatchWriter<Int>.RefusedLine] {
        entries.withLock {
            $0.flatMap { entry -> [BatchWriter<Int>.RefusedLine] in
                if case .refused(let lines) = entry { return lines }
                return []
            }
        }
    }

    var commits: [BatchWriter<Int>.Commit] {
        entries.withLock {
            $0.compactMap { entry in
                if case .commit(let commit) = entry { return commit }
                return nil
            }
        }
    }
}

/// The batch writer's handling of lines InfluxDB refuses: isolated by bisection, reported with
/// reason and receipt before the receipts are handed back, never acknowledged as stored.
@Suite(.timeLimit(.minutes(1))) struct RefusedLinesTests {
    /// `m,k=<value> v=<value>i <value>`; odd values with `bad` in the tag are refused.
    static func line(_ value: Int, bad: Bool) -> String {
        "m,k=\(bad ? "bad" : "ok")\(value) v=\(value)i \(value)"
    }

    func withWriter(
        influx: PartialWriteInflux, budget: Int = 64, spool: Spool? = nil,
        deadLetterFails: @escaping @Sendable (String) -> Bool = { _ in false },
        _ body: (BatchWriter<Int>, WriterLog) async throws -> Void
    ) async throws {
        let log = WriterLog()
        let writer = BatchWriter<Int>(
            options: .init(
                maxLines: 5_000, backoff: Backoff(initial: .milliseconds(10), maximum: .milliseconds(50)),
                refusalRequestBudget: budget),
            spool: spool,
            sink: { body throws(InfluxError) in try influx.write(body) },
            onRefused: { lines in
                // Slow on purpose: the receipts must still wait for it.
                try? await Task.sleep(for: .milliseconds(20))
                log.entries.withLock { $0.append(.refused(lines)) }
                return lines.indices.filter { deadLetterFails(lines[$0].line) }
            },
            onCommit: { commit in log.entries.withLock { $0.append(.commit(commit)) } })
        let running = Task { await writer.run() }
        try await body(writer, log)
        await writer.finish()
        await running.value
    }

    @Test func aRefusedLineWhoseDeadLetterFailedKeepsItsReceipt() async throws {
        let influx = PartialWriteInflux { $0.contains("=bad") }
        let deadLetterFails: @Sendable (String) -> Bool = { $0.contains("bad7") }
        try await withWriter(influx: influx, deadLetterFails: deadLetterFails) { writer, log in
            var body = ByteBuffer()
            for value in 0..<10 { body.writeString(Self.line(value, bad: value == 4 || value == 7) + "\n") }
            await writer.append(encoded: body, lines: 10, receipts: Array(0..<10), withoutLine: [])
            try await eventually("the batch is committed") { !log.commits.isEmpty }
            // 4's dead letter went out: acknowledged. 7's failed: never handed back, so the
            // broker redelivers it instead of it vanishing.
            #expect(log.commits.flatMap(\.receipts) == [0, 1, 2, 3, 4, 5, 6, 8, 9])
            #expect(log.refused.map(\.receipt) == [4, 7])
        }
    }

    @Test(arguments: [true, false])
    func refusedLinesAreIsolatedAndReportedWithTheirReceiptsBeforeTheCommit(reportsDropped: Bool) async throws {
        let influx = PartialWriteInflux(reportsDropped: reportsDropped) { $0.contains("=bad") }
        let badValues: Set = [3, 17, 18, 39]
        try await withWriter(influx: influx) { writer, log in
            // One run: 40 lines, receipt = value; messages without a line (receipts -1, -2)
            // between them, as ingest sends rejected messages.
            var body = ByteBuffer()
            var receipts: [Int] = []
            var withoutLine: [Int] = []
            for value in 0..<40 {
                if value == 5 || value == 18 {
                    withoutLine.append(receipts.count)
                    receipts.append(-receipts.count)
                }
                body.writeString(Self.line(value, bad: badValues.contains(value)) + "\n")
                receipts.append(value)
            }
            await writer.append(encoded: body, lines: 40, receipts: receipts, withoutLine: withoutLine)
            // A refused line with no receipt (an alert event) and a receipt with no line.
            try await writer.append(
                Point(
                    measurement: "m", tags: [(key: "k", value: "bad-alert")], fields: [(key: "v", value: .integer(1))],
                    timestamp: 1))
            await writer.append(receiptOnly: 1000)
            try await eventually("every receipt is handed back") {
                log.commits.flatMap(\.receipts).count == receipts.count + 1
            }
            let refused = log.refused
            #expect(
                Set(refused.map(\.line)) == Set(badValues.map { Self.line($0, bad: true) } + ["m,k=bad-alert v=1i 1"]))
            // Each refused reading comes with its own receipt; the alert line with none.
            for line in refused {
                if line.line.contains("bad-alert") {
                    #expect(line.receipt == nil)
                } else {
                    #expect(line.receipt.map { Self.line($0, bad: true) } == line.line)
                }
                #expect(line.certain)
                #expect(line.reason.hasPrefix("HTTP 400: partial write: field type conflict"))
                #expect(!line.reason.contains("dropped="))
            }
            #expect(influx.stored.count == 40 - badValues.count)
            // Reported before any receipt of the batch was handed back.
            let entries = log.entries.withLock { $0 }
            if case .refused = entries.first {} else { Issue.record("the refusal must come before the commit") }
            let commits = log.commits
            #expect(commits.map { $0.refused.count }.reduce(0, +) == refused.count)
            #expect(commits.allSatisfy { !$0.spooled })
            #expect(influx.requests <= 1 + 64)
        }
    }

    @Test func aWriteRefusedAsAWholeIsDecidedWithoutSplitting() async throws {
        let influx = PartialWriteInflux { _ in true }
        try await withWriter(influx: influx) { writer, log in
            var body = ByteBuffer()
            for value in 0..<100 { body.writeString(Self.line(value, bad: true) + "\n") }
            await writer.append(encoded: body, lines: 100, receipts: Array(0..<100), withoutLine: [])
            try await eventually("the batch is committed") { !log.commits.isEmpty }
            #expect(log.refused.map(\.receipt) == Array(0..<100))
            #expect(log.refused.allSatisfy { $0.certain })
            #expect(influx.requests == 1, "dropped=100 of 100 lines needs no bisection")
        }
    }

    @Test func linesUndecidedWhenTheBudgetRunsOutAreReportedAsUncertain() async throws {
        let influx = PartialWriteInflux(reportsDropped: false) { $0.contains("=bad") }
        try await withWriter(influx: influx, budget: 4) { writer, log in
            var body = ByteBuffer()
            for value in 0..<64 { body.writeString(Self.line(value, bad: value % 2 == 1) + "\n") }
            await writer.append(encoded: body, lines: 64, receipts: Array(0..<64), withoutLine: [])
            try await eventually("the batch is committed") { !log.commits.isEmpty }
            #expect(influx.requests == 1 + 4)
            let refused = log.refused
            // No refused line goes unreported: each is stored or in the report.
            let reported = Set(refused.compactMap(\.receipt))
            for value in 0..<64 {
                let line = Self.line(value, bad: value % 2 == 1)
                #expect(influx.stored.contains(line) || reported.contains(value), "line \(value) lost")
            }
            #expect(refused.contains { !$0.certain })
            #expect(
                refused.filter { !$0.certain }.allSatisfy {
                    $0.reason.contains("may have been stored") && $0.reason.contains("field type conflict")
                })
            #expect(refused.filter(\.certain).allSatisfy { $0.line.contains("=bad") })
        }
    }

    @Test func anOutageDuringIsolationSpoolsTheUndecidedLinesAndReplayReportsTheirRefusals() async throws {
        let directory = try TestPaths.scratch("refused-spool")
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = try Spool(directory: directory.path, maxBytes: 1 << 30)
        let influx = PartialWriteInflux { $0.contains("=bad") }
        // The batch is refused (request 1); bisection isolates line 1 in the first half (requests
        // 2 to 11), then InfluxDB goes down as the second half is split (request 12).
        influx.state.withLock { $0.downOnRequest = 12 }
        let badValues: Set = [1, 30]
        try await withWriter(influx: influx, spool: spool) { writer, log in
            var body = ByteBuffer()
            for value in 0..<32 { body.writeString(Self.line(value, bad: badValues.contains(value)) + "\n") }
            await writer.append(encoded: body, lines: 32, receipts: Array(0..<32), withoutLine: [])
            try await eventually("the batch is committed") { !log.commits.isEmpty }
            let commit = try #require(log.commits.first)
            #expect(commit.spooled)
            #expect(commit.receipts == Array(0..<32))
            // Decided before the outage: line 1, with its receipt.
            #expect(commit.refused.map(\.receipt) == [1])
            #expect(commit.spooledLines == 16, "the second half was not decided")
            #expect(spool.depth.lines == 16)
            influx.setDown(false)
            try await eventually("the spool is replayed") { spool.depth.lines == 0 && log.refused.count == 2 }
            let replayed = log.refused.last
            #expect(replayed?.line == Self.line(30, bad: true))
            #expect(replayed?.receipt == nil, "spooled lines were acknowledged when spooled")
            #expect(influx.stored == Set((0..<32).filter { !badValues.contains($0) }.map { Self.line($0, bad: false) }))
        }
    }

    @Test func receiptPositionsSkipLinesWithoutReceiptsAndReceiptsWithoutLines() {
        // Lines 0…5; line 2 has no receipt; receipts 0 and 3 have no line.
        // Receipts: 0 (no line), 1 → line 0, 2 → line 1, 3 (no line), 4 → line 3, 5 → line 4, 6 → line 5.
        let positions = BatchWriter<Int>.receiptPositions(
            ofLines: [0, 1, 2, 3, 5], lines: 6, receiptlessLines: [2], linelessReceipts: [0, 3])
        #expect(positions == [1, 2, nil, 4, 6])
    }
}
