import Logging
import NIOCore

/// Group-commit writer: readings accumulate in a batch while the previous write is in flight;
/// as soon as the writer is free (or the batch holds `maxLines`), the batch is written in one
/// request. Each line carries a receipt (for the server, the MQTT message to acknowledge) that is
/// handed back only once InfluxDB has accepted the batch, in the order lines were appended.
///
/// Writes that fail for a retryable reason (InfluxDB down, 5xx, 429) are retried with backoff
/// and the batch is held; appends then wait once the next batch is full, which is the
/// backpressure that stops the ingest loop instead of growing memory.
public actor BatchWriter<Receipt: Sendable> {
    /// Tuning for the writer.
    public struct Options: Sendable {
        /// A batch is written once it holds this many lines, even while more keep coming.
        public var maxLines: Int
        /// How long a non-full batch may wait for more lines before it is written (0: write as
        /// soon as the writer is idle — pure group commit).
        public var linger: Duration
        public var backoff: RetryBackoff
        /// On `finish()`, how long to keep retrying what is left before giving up on it.
        public var shutdownGrace: Duration

        public init(
            maxLines: Int = 5_000, linger: Duration = .zero, backoff: RetryBackoff = RetryBackoff(),
            shutdownGrace: Duration = .seconds(5)
        ) {
            self.maxLines = maxLines
            self.linger = linger
            self.backoff = backoff
            self.shutdownGrace = shutdownGrace
        }
    }

    /// A written batch, handed to `onCommit` with its receipts in append order.
    public struct Commit: Sendable {
        public var receipts: [Receipt]
        public var lines: Int
        public var bytes: Int
        /// Lines InfluxDB refused (4xx partial write); the rest of the batch is stored.
        public var rejected: InfluxError?
        public var attempts: Int
        public var duration: Duration
    }

    /// What the sink did with a batch.
    public typealias Sink = @Sendable (ByteBuffer) async throws(InfluxError) -> Void

    private let options: Options
    private let sink: Sink
    private let onCommit: @Sendable (Commit) -> Void
    private let onRetry: @Sendable (InfluxError, Int, Duration) -> Void
    private var buffer = ByteBuffer()
    private var lines = 0
    private var receipts: [Receipt] = []
    private var firstAppend: ContinuousClock.Instant?
    private var workWaiter: CheckedContinuation<Void, Never>?
    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private var finishing = false
    private var finishDeadline: ContinuousClock.Instant?
    private var lastError: InfluxError?

    public init(
        options: Options = Options(),
        sink: @escaping Sink,
        onCommit: @escaping @Sendable (Commit) -> Void,
        onRetry: @escaping @Sendable (InfluxError, Int, Duration) -> Void = { _, _, _ in }
    ) {
        self.options = options
        self.sink = sink
        self.onCommit = onCommit
        self.onRetry = onRetry
        buffer.reserveCapacity(options.maxLines * 160)
    }

    /// Number of lines waiting for the next write.
    public var pendingLines: Int { lines }

    /// The error of the last failed attempt, cleared by the next success.
    public var currentError: InfluxError? { lastError }

    /// Adds one point; waits while the next batch is full. Returns false (and drops nothing
    /// that was acknowledged: the receipt is simply not handed back) once the writer finished.
    @discardableResult
    public func append(_ point: Point, receipt: Receipt) async throws(LineProtocolError) -> Bool {
        guard await waitForSpace() else { return false }
        try LineProtocol.encode(point, into: &buffer)
        lines += 1
        receipts.append(receipt)
        noteWork()
        return true
    }

    /// Adds a receipt without a line (an invalid message that must still be acknowledged in
    /// order with the readings around it).
    @discardableResult
    public func append(receiptOnly receipt: Receipt) async -> Bool {
        guard await waitForSpace() else { return false }
        receipts.append(receipt)
        noteWork()
        return true
    }

    /// Writes what is pending (retrying up to the shutdown grace period) and ends `run()`.
    public func finish() {
        finishing = true
        finishDeadline = .now + options.shutdownGrace
        workWaiter?.resume()
        workWaiter = nil
        for waiter in spaceWaiters { waiter.resume() }
        spaceWaiters.removeAll()
    }

    /// The write loop; returns after `finish()` once everything pending was handled.
    public func run() async {
        while true {
            if receipts.isEmpty {
                if finishing { return }
                await withCheckedContinuation { workWaiter = $0 }
                continue
            }
            if options.linger > .zero, lines < options.maxLines, !finishing, let first = firstAppend {
                let due = first + options.linger
                if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
            }
            await writePending()
        }
    }

    private func waitForSpace() async -> Bool {
        while lines >= options.maxLines && !finishing {
            await withCheckedContinuation { spaceWaiters.append($0) }
        }
        return !finishing
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
        buffer = ByteBuffer()
        buffer.reserveCapacity(options.maxLines * 160)
        lines = 0
        receipts = []
        firstAppend = nil
        for waiter in spaceWaiters { waiter.resume() }
        spaceWaiters.removeAll()

        let started = ContinuousClock.now
        var attempt = 0
        var rejected: InfluxError?
        while batchLines > 0 {
            attempt += 1
            do throws(InfluxError) {
                try await sink(body)
                lastError = nil
                break
            } catch {
                lastError = error
                guard error.isRetryable else {
                    rejected = error
                    break
                }
                if let deadline = finishDeadline, ContinuousClock.now >= deadline {
                    // Shutting down and InfluxDB still fails: leave these unacknowledged; the
                    // broker redelivers them to the next session.
                    return
                }
                var delay = options.backoff.delay(attempt: attempt)
                if case .unavailable(_, let retryAfter?) = error { delay = max(delay, retryAfter) }
                onRetry(error, attempt, delay)
                if let deadline = finishDeadline { delay = min(delay, deadline - ContinuousClock.now) }
                try? await Task.sleep(for: delay)
            }
        }
        onCommit(
            Commit(
                receipts: batchReceipts, lines: batchLines, bytes: body.readableBytes, rejected: rejected,
                attempts: attempt, duration: ContinuousClock.now - started))
    }
}
