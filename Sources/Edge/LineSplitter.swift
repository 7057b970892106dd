/// Splits bytes into lines as they arrive: at LF, with a CR before it dropped (an Arduino
/// bridge's `println` ends lines with CRLF) and empty lines skipped. A line longer than
/// `LineReader.maxLine` bytes (its CR not counted) is cut there, still too long for a reading so
/// that it is rejected as such, and the rest of it skipped: no line takes more memory than that.
struct LineSplitter {
    private var line: [UInt8] = []
    private var skipping = false

    /// Feeds bytes; calls `emit` with each line they complete.
    mutating func feed(_ bytes: some Collection<UInt8>, _ emit: (String) -> Void) {
        var rest = bytes[...]
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            take(rest[..<newline])
            end(emit)
            rest = rest[rest.index(after: newline)...]
        }
        take(rest)
    }

    /// The end of the bytes: what follows the last LF is a line when `whole`, and dropped when
    /// the output was cut off (killed, too long), since it may be a line's beginning only.
    mutating func finish(whole: Bool, _ emit: (String) -> Void) {
        if whole {
            end(emit)
        } else {
            line.removeAll()
            skipping = false
        }
    }

    /// Keeps one byte more than a line may have: a CR there may be the line's end, to drop
    /// before the line is cut (else a CR at the cut would shorten a too-long line to a valid one).
    private mutating func take(_ bytes: some Collection<UInt8>) {
        guard !skipping else { return }
        line += bytes.prefix(LineReader.maxLine + 1 - line.count)
        if line.count > LineReader.maxLine { skipping = true }
    }

    private mutating func end(_ emit: (String) -> Void) {
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if !line.isEmpty { emit(String(decoding: line.prefix(LineReader.maxLine), as: UTF8.self)) }
        line.removeAll(keepingCapacity: true)
        skipping = false
    }
}
