import Backoff
import NIOCore
import NIOPosix
import Spool

#if canImport(Glibc)
    import Glibc
#endif

/// Group-commit writer: readings accumulate in a batch while the previous write is in flight;
/// as soon as the writer is free (or the batch holds `maxLines`), the batch is written in one
/// request. Each line carries a receipt (for the server, the MQTT message to acknowledge) that is
/// handed back only once the batch is durable — accepted by InfluxDB, or appended and fsynced
/// to the spool — in the order lines were appended.
///
/// While InfluxDB fails (down, 5xx, 429), batches go to the spool and a replay loop writes them
/// back oldest first once InfluxDB answers, while new batches keep flowing. Without a spool, or
/// with the spool full, the batch is held and retried with backoff; appends then wait once the
/// next batch is full, which is the backpressure that stops the ingest loop instead of growing
/// memory.
///
/// When InfluxDB refuses lines for good (4xx: series limits, field-type conflicts, unparsable
/// lines), the writer finds out exactly which ones (`RefusalBisection`) and hands them, with
/// InfluxDB's reason and their receipts, to `onRefused`, which it awaits before the batch's
/// receipts are handed back (or before a replayed spool record is removed).
public actor BatchWriter<Receipt: Sendable> {
    /// Tuning for the writer.
    public struct Options: Sendable {
        /// A batch is written once it holds this many lines, even while more keep coming.
        public var maxLines: Int
        /// How long a non-full batch may wait for more lines before it is written (0: write as
        /// soon as the writer is idle — pure group commit).
        public var linger: Duration
        public var backoff: Backoff
        /// On `finish()`, how long to keep trying what is left before giving up on it (it is
        /// then simply not acknowledged, and the broker redelivers it).
        public var shutdownGrace: Duration
        /// Extra requests allowed per refused write to isolate the refused lines; lines still
        /// undecided then are reported refused, marked uncertain.
        public var refusalRequestBudget: Int

        public init(
            maxLines: Int = 5_000, linger: Duration = .zero, backoff: Backoff = Backoff(),
            shutdownGrace: Duration = .seconds(5), refusalRequestBudget: Int = 64
        ) {
            self.maxLines = maxLines
            self.linger = linger
            self.backoff = backoff
            self.shutdownGrace = shutdownGrace
            self.refusalRequestBudget = refusalRequestBudget
        }
    }

    /// A durable batch, handed to `onCommit` with its receipts in append order.
    public struct Commit: Sendable {
        public var receipts: [Receipt]
        public var lines: Int
        /// Lines appended without a receipt (`append(_:)`), included in `lines`.
        public var unreceiptedLines: Int
        public var bytes: Int
        /// True when the batch (or what of it was not yet decided) went to the spool (InfluxDB
        /// unavailable), false when InfluxDB took it.
        public var spooled: Bool
        /// Lines that went to the spool (0 when InfluxDB took the batch).
        public var spooledLines: Int
        /// Lines InfluxDB refused for good, already handed to `onRefused`; the rest of the batch
        /// is stored (or spooled). Their receipts are among `receipts`.
        public var refused: [RefusedLine]
        public var attempts: Int
        public var duration: Duration
    }

    /// A line InfluxDB refused for good: its text (without the newline), InfluxDB's reason, and
    /// the receipt it was appended with (nil for lines appended without one and for lines
    /// replayed from the spool, whose receipts were handed back when they were spooled).
    public struct RefusedLine: Sendable {
        public var line: String
        public var reason: String
        public var receipt: Receipt?
        /// False when the writer's request budget ran out before the line was isolated: it was
        /// in a refused write and may have been stored all the same.
        public var certain: Bool

        public init(line: String, reason: String, receipt: Receipt?, certain: Bool) {
            self.line = line
            self.reason = reason
            self.receipt = receipt
            self.certain = certain
        }
    }

    /// Something the writer wants logged and counted.
    public enum Event: Sendable {
        /// A write failed and will be retried (or the batch spooled).
        case writeFailed(InfluxError, attempt: Int)
        /// The spool could not take a batch; it is held in memory and retried after `delay`.
        case spoolRefused(SpoolError, delay: Duration)
        /// Reading the spool, or marking a replayed batch as written, failed; replay tries again
        /// after `delay` (a batch written but not marked is written again: the same points).
        case spoolReplayFailed(SpoolError, delay: Duration)
        /// Spooled lines were written to InfluxDB (`lines` of them stored; refused ones went to
        /// `onRefused` and are not counted here).
        case replayed(lines: Int, remaining: Spool.Depth)
        /// InfluxDB refused lines of a write; `requests` extra requests isolated them.
        case refusalIsolated(lines: Int, refused: Int, requests: Int)
    }

    /// How long a batch may wait for more lines while InfluxDB is unavailable.
    static var spoolLinger: Duration { .milliseconds(20) }

    /// Writes one body of line protocol.
    public typealias Sink = @Sendable (ByteBuffer) async throws(InfluxError) -> Void

    private let options: Options
    private let sink: Sink
    private let spool: Spool?
    private let onCommit: @Sendable (Commit) -> Void
    /// Handles refused lines (dead letters); returns the positions (in the array it was given)
    /// of those it could not hand on: their receipts are then not handed back, nor is a replayed
    /// spool record removed, so nothing refused disappears without a trace.
    private let onRefused: @Sendable ([RefusedLine]) async -> [Int]
    private let onEvent: @Sendable (Event) -> Void
    private var buffer = ByteBuffer()
    private var lines = 0
    private var unreceiptedLines = 0
    private var receipts: [Receipt] = []
    /// Positions (in the next batch) of lines without a receipt and of receipts without a line;
    /// both empty in the common case, so the line of each receipt is known without a table.
    private var receiptlessLines: [Int] = []
    private var linelessReceipts: [Int] = []
    private var firstAppend: ContinuousClock.Instant?
    private var workWaiter: CheckedContinuation<Void, Never>?
    private var replayWaiter: CheckedContinuation<Void, Never>?
    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private var finishing = false
    /// Batches this writer spooled, so the replay loop can tell whether one arrived while it
    /// was looking at the spool.
    private var spoolAppends: UInt64 = 0
    private var finishDeadline: ContinuousClock.Instant?
    private var lastError: InfluxError?
    /// False after a retryable failure until a write succeeds: new batches then go straight to
    /// the spool instead of each waiting for InfluxDB to time out.
    private var influxAvailable = true

    public init(
        options: Options = Options(),
        spool: Spool? = nil,
        sink: @escaping Sink,
        onRefused: @escaping @Sendable ([RefusedLine]) async -> [Int],
        onCommit: @escaping @Sendable (Commit) -> Void,
        onEvent: @escaping @Sendable (Event) -> Void = { _ in }
    ) {
        self.options = options
        self.spool = spool
        self.sink = sink
        self.onRefused = onRefused
        self.onCommit = onCommit
        self.onEvent = onEvent
    }

    /// Number of lines waiting for the next write.
    public var pendingLines: Int { lines }

    /// The writer's state in a line, for a test that waited too long to say where it stood.
    public var stateDescription: String {
        "lines \(lines), receipts \(receipts.count), work waiter \(workWaiter != nil), "
            + "space waiters \(spaceWaiters.count), replay waiter \(replayWaiter != nil), finishing \(finishing), "
            + "influx available \(influxAvailable), last error \(lastError.map { "\($0)" } ?? "none")"
    }

    /// The error of the last failed attempt, cleared by the next success.
    public var currentError: InfluxError? { lastError }

    /// What the spool holds (nil without a spool).
    public nonisolated var spoolDepth: Spool.Depth? { spool?.depth }

    /// Adds one point; waits while the next batch is full. Returns false once the writer
    /// finished (the receipt is then never handed back, so nothing is acknowledged).
    @discardableResult
    public func append(_ point: Point, receipt: Receipt) async throws(LineProtocolError) -> Bool {
        guard await waitForSpace() else { return false }
        try LineProtocol.encode(point, into: &buffer)
        lines += 1
        receipts.append(receipt)
        noteWork()
        return true
    }

    /// Adds lines the caller encoded (`lines` of them, each ending in a newline) and the receipts
    /// that go with them, in order. `withoutLine` lists the positions in `receipts` (ascending)
    /// of receipts that have no line (messages acknowledged without one); every other receipt
    /// belongs to the next line. One call per run of messages instead of one per point; waits
    /// while the next batch is full. Returns false once the writer finished.
    @discardableResult
    public func append(
        encoded body: ByteBuffer, lines count: Int, receipts batchReceipts: [Receipt], withoutLine: [Int]
    ) async -> Bool {
        precondition(batchReceipts.count == count + withoutLine.count, "one receipt per line, plus those without")
        guard await waitForSpace(adding: count, receipts: batchReceipts.count) else { return false }
        buffer.writeImmutableBuffer(body)
        lines += count
        if !withoutLine.isEmpty {
            let offset = receipts.count
            linelessReceipts.append(contentsOf: withoutLine.lazy.map { $0 + offset })
        }
        receipts.append(contentsOf: batchReceipts)
        noteWork()
        return true
    }

    /// Adds a point nobody waits for (an alert event): stored, spooled and replayed like the
    /// rest, but with no receipt to hand back.
    @discardableResult
    public func append(_ point: Point) async throws(LineProtocolError) -> Bool {
        guard await waitForSpace() else { return false }
        try LineProtocol.encode(point, into: &buffer)
        receiptlessLines.append(lines)
        lines += 1
        unreceiptedLines += 1
        noteWork()
        return true
    }

    /// Adds a receipt without a line (an invalid message that must still be acknowledged in
    /// order with the readings around it).
    @discardableResult
    public func append(receiptOnly receipt: Receipt) async -> Bool {
        guard await waitForSpace() else { return false }
        linelessReceipts.append(receipts.count)
        receipts.append(receipt)
        noteWork()
        return true
    }

    /// Writes what is pending (trying up to the shutdown grace period) and ends `run()`.
    public func finish() {
        finishing = true
        finishDeadline = .now + options.shutdownGrace
        wakeEveryone()
    }

    /// The write loop and the spool's replay loop; returns after `finish()` once everything
    /// pending was handled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.writeLoop() }
            group.addTask { await self.replayLoop() }
        }
        // Done with it: its folder is free for the next writer (a restart in the same process).
        spool?.release()
    }

    // MARK: Writing

    private func writeLoop() async {
        while !Task.isCancelled {
            if receipts.isEmpty && lines == 0 {
                if finishing { return }
                await wait(while: { receipts.isEmpty && lines == 0 && !finishing }, park: { workWaiter = $0 })
                continue
            }
            // While batches go to the spool, each costs an fsync: let them grow a little (the
            // broker's in-flight window still bounds how many readings wait).
            let linger = influxAvailable || spool == nil ? options.linger : max(options.linger, Self.spoolLinger)
            if linger > .zero, lines < options.maxLines, !finishing, let first = firstAppend {
                let due = first + linger
                if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
            }
            await writePending()
        }
    }

    /// Waits until `adding` more lines fit in the next batch (a run larger than a whole batch
    /// goes into an empty one).
    private func waitForSpace(adding: Int = 1, receipts receiptCount: Int = 1) async -> Bool {
        // Receipts count too (at most two per line's worth): a run of rejected messages has no
        // lines, and while a write is stuck such runs must not pile up their payloads in memory.
        func full() -> Bool {
            !finishing
                && ((lines > 0 && lines + adding > options.maxLines)
                    || (!receipts.isEmpty && receipts.count + receiptCount > 2 * options.maxLines))
        }
        while full() && !Task.isCancelled {
            await wait(while: full) { spaceWaiters.append($0) }
        }
        // Cancelled: the caller's receipts are not taken, so they are never acknowledged.
        return !finishing && !Task.isCancelled
    }

    /// Suspends until woken through the continuation `park` stores, or until the calling task is
    /// cancelled: every wait of the writer ends on cancellation (the loops and appenders then
    /// look at `Task.isCancelled` and stop). `blocked` is asked again once the continuation
    /// exists, and the task parks only if it still holds: a wake-up that came between the
    /// caller's check and the park is never lost (a CI run once found the write loop parked
    /// with 7 lines pending).
    private func wait(while blocked: () -> Bool, park: (CheckedContinuation<Void, Never>) -> Void) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { waiter in
                if blocked() && !Task.isCancelled { park(waiter) } else { waiter.resume() }
            }
        } onCancel: {
            // Runs outside the actor; the hop waits until the continuation above is stored.
            Task { await self.wakeEveryone() }
        }
    }

    /// Resumes every waiter; each checks again whether it may go on.
    private func wakeEveryone() {
        workWaiter?.resume()
        workWaiter = nil
        replayWaiter?.resume()
        replayWaiter = nil
        for waiter in spaceWaiters { waiter.resume() }
        spaceWaiters.removeAll()
    }

    private func noteWork() {
        if firstAppend == nil { firstAppend = .now }
        workWaiter?.resume()
        workWaiter = nil
    }

    private func writePending() async {
        let body = buffer
        let batchLines = lines
        let batchReceipts = receipts
        let batchUnreceipted = unreceiptedLines
        let batchReceiptless = receiptlessLines
        let batchLineless = linelessReceipts
        unreceiptedLines = 0
        receiptlessLines = []
        linelessReceipts = []
        // Room for a batch like this one: a full-size reservation (maxLines × 160 bytes, about
        // 800 kB) for every small batch cost an mmap, page faults and a munmap each time.
        buffer = ByteBuffer()
        buffer.reserveCapacity(body.readableBytes)
        lines = 0
        receipts = []
        firstAppend = nil
        for waiter in spaceWaiters { waiter.resume() }
        spaceWaiters.removeAll()

        let started = ContinuousClock.now
        var attempt = 0
        // What must still become durable: the whole batch, or after a refusal cut short by an
        // outage, the lines not yet decided (`positions` maps them to the batch's lines).
        var pending = body
        var pendingLines = batchLines
        var positions: [Int]?
        var refused: [RefusalBisection.Verdict] = []
        func commit(spooledLines: Int) async {
            var refusedLines: [RefusedLine] = []
            var receipts = batchReceipts
            if !refused.isEmpty {
                let owners = Self.receiptPositions(
                    ofLines: refused.map(\.index), lines: batchLines, receiptlessLines: batchReceiptless,
                    linelessReceipts: batchLineless)
                refusedLines = zip(refused, owners).map { verdict, owner in
                    RefusedLine(
                        line: verdict.line, reason: verdict.reason, receipt: owner.map { batchReceipts[$0] },
                        certain: verdict.certain)
                }
                // Dead letters (or whatever the owner does) before any receipt is handed back;
                // a line whose dead letter failed keeps its receipt back (the broker redelivers).
                let unhandled = await onRefused(refusedLines)
                if !unhandled.isEmpty {
                    let withheld = Set(unhandled.compactMap { owners[$0] })
                    receipts = batchReceipts.enumerated().filter { !withheld.contains($0.offset) }.map(\.element)
                }
            }
            onCommit(
                Commit(
                    receipts: receipts, lines: batchLines, unreceiptedLines: batchUnreceipted,
                    bytes: body.readableBytes, spooled: spooledLines > 0, spooledLines: spooledLines,
                    refused: refusedLines, attempts: attempt, duration: ContinuousClock.now - started))
        }
        guard batchLines > 0 else {
            await commit(spooledLines: 0)
            return
        }
        var probeInflux = false
        while true {
            attempt += 1
            if influxAvailable || spool == nil || probeInflux {
                do throws(InfluxError) {
                    try await sink(pending)
                    markAvailable()
                    await commit(spooledLines: 0)
                    return
                } catch {
                    if error.isRetryable {
                        lastError = error
                        influxAvailable = false
                        onEvent(.writeFailed(error, attempt: attempt))
                    } else {
                        let outcome = await RefusalBisection.isolate(
                            body: pending, refusal: error, budget: options.refusalRequestBudget, sink: sink)
                        onEvent(
                            .refusalIsolated(
                                lines: pendingLines, refused: outcome.refused.count, requests: outcome.requests))
                        for var verdict in outcome.refused {
                            if let positions { verdict.index = positions[verdict.index] }
                            refused.append(verdict)
                        }
                        refused.sort { $0.index < $1.index }
                        guard let interruption = outcome.interruption else {
                            markAvailable()
                            await commit(spooledLines: 0)
                            return
                        }
                        // InfluxDB went away while the refused lines were being isolated: what
                        // is not decided takes the outage path.
                        (pending, positions) = Self.subset(pending, positions: positions, ranges: outcome.undecided)
                        pendingLines = positions?.count ?? 0
                        lastError = interruption
                        influxAvailable = false
                        onEvent(.writeFailed(interruption, attempt: attempt))
                    }
                }
            }
            var delay = options.backoff.delay(attempt: attempt)
            if let spool {
                do throws(SpoolError) {
                    let (spooledBody, spooledCount) = (pending, pendingLines)
                    try await DiskThreads.run { () throws(SpoolError) in
                        try spool.append(spooledBody, lines: spooledCount)
                    }
                    spoolAppends &+= 1
                    await commit(spooledLines: pendingLines)
                    replayWaiter?.resume()
                    replayWaiter = nil
                    return
                } catch {
                    onEvent(.spoolRefused(error, delay: delay))
                }
            } else if case .unavailable(_, let retryAfter?) = lastError {
                delay = max(delay, retryAfter)
            }
            // Cancelled (not a graceful finish): sleeping would return at once and the loop
            // would spin; leave the batch unacknowledged for the broker to redeliver.
            if Task.isCancelled { return }
            if let deadline = finishDeadline {
                // Shutting down and the batch is not durable: leave it unacknowledged; the
                // broker redelivers it to the next session.
                if ContinuousClock.now >= deadline { return }
                delay = min(delay, deadline - ContinuousClock.now)
            }
            try? await Task.sleep(for: delay)
            probeInflux = true
        }
    }

    /// The lines of `body` in `ranges` (line positions), with the batch position of each.
    static func subset(_ body: ByteBuffer, positions: [Int]?, ranges: [Range<Int>]) -> (ByteBuffer, [Int]) {
        let starts = RefusalBisection.lineStarts(of: body)
        var result = ByteBuffer()
        var kept: [Int] = []
        for range in ranges {
            result.writeImmutableBuffer(
                body.getSlice(
                    at: body.readerIndex + starts[range.lowerBound],
                    length: starts[range.upperBound] - starts[range.lowerBound])!)
            kept.append(contentsOf: range.map { positions?[$0] ?? $0 })
        }
        return (result, kept)
    }

    /// For each of `indices` (ascending line positions in a batch), the position of its receipt
    /// in the batch's receipts, or nil for a line appended without one. Receipts and lines pair
    /// up in order once the lines without a receipt and the receipts without a line are skipped.
    static func receiptPositions(
        ofLines indices: [Int], lines: Int, receiptlessLines: [Int], linelessReceipts: [Int]
    ) -> [Int?] {
        var result: [Int?] = []
        result.reserveCapacity(indices.count)
        var wanted = indices.makeIterator()
        var next = wanted.next()
        var receipt = 0
        var receiptless = receiptlessLines[...]
        var lineless = linelessReceipts[...]
        for line in 0..<lines {
            guard let target = next else { break }
            var owner: Int?
            if receiptless.first == line {
                receiptless.removeFirst()
            } else {
                while lineless.first == receipt {
                    lineless.removeFirst()
                    receipt += 1
                }
                owner = receipt
                receipt += 1
            }
            if line == target {
                result.append(owner)
                next = wanted.next()
            }
        }
        return result
    }

    private func markAvailable() {
        lastError = nil
        influxAvailable = true
    }

    // MARK: Replaying the spool

    private func replayLoop() async {
        guard let spool else { return }
        var attempt = 0
        while !finishing && !Task.isCancelled {
            // The peek runs on a disk thread: a batch spooled meanwhile finds no replay waiter
            // to wake, so the loop parks only if nothing was spooled since it looked.
            let appendsSeen = spoolAppends
            let record: Spool.Record?
            do {
                let maxLines = options.maxLines
                record = try await DiskThreads.run { () throws(SpoolError) in try spool.peek(maxLines: maxLines) }
            } catch {
                await replayFailed(error)
                continue
            }
            guard let record else {
                await wait(while: { spoolAppends == appendsSeen && !finishing }, park: { replayWaiter = $0 })
                continue
            }
            var failure: InfluxError?
            do throws(InfluxError) {
                try await sink(record.body)
                attempt = 0
                markAvailable()
                guard await removeReplayed(record, from: spool) else { continue }
                onEvent(.replayed(lines: record.lines, remaining: spool.depth))
            } catch {
                failure = error
            }
            if let refusal = failure, !refusal.isRetryable {
                let outcome = await RefusalBisection.isolate(
                    body: record.body, refusal: refusal, budget: options.refusalRequestBudget, sink: sink)
                onEvent(
                    .refusalIsolated(lines: record.lines, refused: outcome.refused.count, requests: outcome.requests))
                // Cut short by an outage: the record stays and is replayed (and isolated) again.
                failure = outcome.interruption
                if failure == nil {
                    attempt = 0
                    markAvailable()
                    // Their receipts were handed back when the lines were spooled: the line is
                    // all that is left to report, and it must be out before the spool forgets it.
                    let unhandled = await onRefused(
                        outcome.refused.map {
                            RefusedLine(line: $0.line, reason: $0.reason, receipt: nil, certain: $0.certain)
                        })
                    if unhandled.isEmpty {
                        guard await removeReplayed(record, from: spool) else { continue }
                        onEvent(.replayed(lines: record.lines - outcome.refused.count, remaining: spool.depth))
                    } else {
                        // The record stays and is replayed (and its refusals reported) again.
                        try? await Task.sleep(for: options.backoff.delay(attempt: 3))
                    }
                }
            }
            if let failure {
                attempt += 1
                lastError = failure
                influxAvailable = false
                var delay = options.backoff.delay(attempt: attempt)
                if case .unavailable(_, let retryAfter?) = failure { delay = max(delay, retryAfter) }
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Marks a written record as done; false (reported, after a pause) when the spool failed.
    private func removeReplayed(_ record: Spool.Record, from spool: Spool) async -> Bool {
        do {
            try await DiskThreads.run { () throws(SpoolError) in try spool.remove(record) }
            return true
        } catch {
            await replayFailed(error)
            return false
        }
    }

    private func replayFailed(_ error: SpoolError) async {
        let delay = Duration.seconds(1)
        onEvent(.spoolReplayFailed(error, delay: delay))
        try? await Task.sleep(for: delay)
    }
}
