import NIOCore

/// Finds out exactly which lines of a refused write InfluxDB refused. A partial write names at
/// most one example line and a `dropped=N` count that is not even reliable (parse errors report
/// `dropped=0`, a series-limit error hides a field-type conflict in the same request), so the
/// write is split in halves and each half written again: a half InfluxDB accepts is stored
/// (writing a stored point again overwrites it with itself), a half refused with `dropped=N`
/// equal to its line count is refused entirely, a single refused line is refused, and any other
/// refused half is split again. At most `budget` extra requests are made; lines still undecided
/// then are reported as refused but uncertain (they may have been stored).
enum RefusalBisection {
    /// A line found refused, by its position in the write.
    struct Verdict: Sendable, Equatable {
        var index: Int
        var line: String
        var reason: String
        /// False when the budget ran out before the line was isolated.
        var certain: Bool
    }

    /// What the bisection decided about a write.
    struct Outcome: Sendable {
        /// Refused lines in ascending position; every other decided line is stored.
        var refused: [Verdict] = []
        /// Line ranges not decided because InfluxDB became unavailable (`interruption`); they
        /// must be written again, never acknowledged as stored.
        var undecided: [Range<Int>] = []
        var interruption: InfluxError?
        /// Extra requests made.
        var requests = 0
    }

    /// Decides every line of `body` (newline-terminated lines) after InfluxDB refused it with
    /// `refusal`.
    static func isolate(
        body: ByteBuffer, refusal: InfluxError, budget: Int,
        sink: (ByteBuffer) async throws(InfluxError) -> Void
    ) async -> Outcome {
        let starts = lineStarts(of: body)
        let lineCount = starts.count - 1
        var outcome = Outcome()
        guard lineCount > 0 else { return outcome }
        func slice(_ range: Range<Int>) -> ByteBuffer {
            body.getSlice(
                at: body.readerIndex + starts[range.lowerBound],
                length: starts[range.upperBound] - starts[range.lowerBound])!
        }
        func line(_ index: Int) -> String {
            var text = String(buffer: slice(index..<(index + 1)))
            if text.last == "\n" { text.removeLast() }
            return text
        }
        func refuse(_ range: Range<Int>, reason: String, certain: Bool) {
            for index in range {
                outcome.refused.append(Verdict(index: index, line: line(index), reason: reason, certain: certain))
            }
        }

        // Ranges to decide: refused as a whole (`probed`, with InfluxDB's answer for exactly these
        // lines), or part of a refused range and not written on their own (the larger range's answer).
        var refusedRanges: [(range: Range<Int>, error: InfluxError, probed: Bool)] = [(0..<lineCount, refusal, true)]
        while let (range, error, probed) = refusedRanges.popLast() {
            if probed && (range.count == 1 || (dropped(error) ?? 0) >= range.count) {
                refuse(range, reason: reason(error), certain: true)
                continue
            }
            if outcome.interruption != nil {
                outcome.undecided.append(range)
                continue
            }
            if outcome.requests >= budget {
                refuse(
                    range,
                    reason: "InfluxDB refused a write of \(range.count) lines including this one and the "
                        + "writer stopped isolating the refused lines after \(budget) requests, so this line "
                        + "may have been stored: \(reason(error))",
                    certain: false)
                continue
            }
            let middle = range.lowerBound + range.count / 2
            // The second half is pushed first so ranges are decided front to back.
            var halves: [(range: Range<Int>, error: InfluxError, probed: Bool)] = []
            for half in [range.lowerBound..<middle, middle..<range.upperBound] {
                if outcome.interruption != nil || outcome.requests >= budget {
                    // Decided in a later round: undecided, or uncertain with this range's reason.
                    halves.append((half, error, false))
                    continue
                }
                outcome.requests += 1
                do throws(InfluxError) {
                    try await sink(slice(half))
                } catch let failure {
                    if failure.isRetryable {
                        outcome.interruption = failure
                        halves.append((half, error, false))
                    } else {
                        halves.append((half, failure, true))
                    }
                }
            }
            refusedRanges.append(contentsOf: halves.reversed())
        }
        outcome.refused.sort { $0.index < $1.index }
        outcome.undecided.sort { $0.lowerBound < $1.lowerBound }
        return outcome
    }

    /// Byte offsets (from the reader index) where each line starts, plus the end.
    static func lineStarts(of body: ByteBuffer) -> [Int] {
        var starts = [0]
        body.withUnsafeReadableBytes { bytes in
            for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
                starts.append(offset + 1)
            }
            // A last line without its newline still counts.
            if let last = starts.last, last < bytes.count { starts.append(bytes.count) }
        }
        return starts
    }

    /// InfluxDB's reason for refusing, without its `dropped=N`, which counts the probe request
    /// and not the line.
    static func reason(_ error: InfluxError) -> String {
        guard case .rejected(let status, let message, _) = error else { return error.description }
        var text = Substring(message)
        if let range = text.range(of: " dropped=", options: .backwards),
            text[range.upperBound...].allSatisfy(\.isNumber)
        {
            text = text[..<range.lowerBound]
        }
        return "HTTP \(status): \(text)"
    }

    static func dropped(_ error: InfluxError) -> Int? {
        guard case .rejected(_, let message, _) = error else { return nil }
        return BadLine.droppedCount(in: message)
    }
}
