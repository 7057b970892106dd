import Dispatch
import MobyCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads lines from a file descriptor (standard input) one at a time, as its reader asks: a
/// program piping readings faster than the outbox takes them is held back by the pipe, not by
/// an ever-growing buffer here, and what was not read yet is still in the pipe when the agent
/// stops. A line longer than `maxLine` bytes is cut there (it is rejected as too long) and the
/// rest of it skipped, so no line can take more memory than that. Blocking reads run on a
/// dispatch queue of their own, never on Swift's shared threads.
public final class LineReader: Sendable {
    /// One more byte than a reading may have: a cut line is still seen as too long.
    public static let maxLine = ReadingDecoder.maxPayloadBytes + 1

    private let fd: Int32
    private let queue = DispatchQueue(label: "moby-sensor.line-reader")
    /// Lines split but not yet returned (from `head` on), the splitter, and whether the input
    /// ended; only touched on `queue`.
    nonisolated(unsafe) private var ready: [String] = []
    nonisolated(unsafe) private var head = 0
    nonisolated(unsafe) private var splitter = LineSplitter()
    nonisolated(unsafe) private var ended = false

    public init(fd: Int32 = STDIN_FILENO) {
        self.fd = fd
    }

    /// The lines as an async sequence that reads one when asked.
    public var lines: AsyncStream<String> {
        AsyncStream(unfolding: { await self.next() })
    }

    /// The next line without its LF (and a CR before it), nil at the end of input.
    public func next() async -> String? {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.readLine()) }
        }
    }

    /// On `queue`: reads a chunk at a time (at most 64 KiB of lines ahead of the reader).
    private func readLine() -> String? {
        while true {
            if head < ready.count {
                defer { head += 1 }
                return ready[head]
            }
            ready.removeAll(keepingCapacity: true)
            head = 0
            if ended { return nil }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                splitter.feed(chunk[..<count]) { ready.append($0) }
            } else if count < 0 && errno == EAGAIN {
                // A non-blocking descriptor: wait until there is something to read.
                var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&ready, 1, -1)
            } else if count == 0 || errno != EINTR {
                ended = true
                splitter.finish(whole: true) { ready.append($0) }
            }
        }
    }
}
