import Foundation
import MobyTestSupport
import Synchronization
import Testing

@testable import Edge

/// Forwarded lines read from a pipe: each line when asked, none longer than a reading may be,
/// any line end.
@Suite struct LineReaderTests {
    @Test func linesAreCutAtTheLimitAndEndsAreLFOrCRLF() async throws {
        let pipe = Pipe()
        let long = String(repeating: "x", count: 200_000)
        let writing = pipe.fileHandleForWriting
        // More than the pipe holds: written while the reader reads.
        Thread {
            try? writing.write(contentsOf: Data("a\r\nb\n\n\(long)\nlast".utf8))
            try? writing.close()
        }.start()
        let reader = LineReader(fd: pipe.fileHandleForReading.fileDescriptor)
        var lines: [String] = []
        while let line = await reader.next() { lines.append(line) }
        #expect(lines.count == 4, "the empty line is skipped")
        #expect(Array(lines[0..<2]) == ["a", "b"])
        #expect(lines[2] == String(repeating: "x", count: LineReader.maxLine), "cut, still too long")
        #expect(lines[3] == "last")
        #expect(await reader.next() == nil)
    }

    @Test func aFastWriterIsHeldBackByThePipe() async throws {
        let pipe = Pipe()
        let done = Mutex(false)
        let line = Data((String(repeating: "y", count: 1_000) + "\n").utf8)
        let writing = pipe.fileHandleForWriting
        // 2 MB into a pipe of 64 KiB: the writer can finish only as fast as lines are read.
        let writer = Thread {
            for _ in 0..<2_000 { try? writing.write(contentsOf: line) }
            try? writing.close()
            done.withLock { $0 = true }
        }
        writer.start()
        let reader = LineReader(fd: pipe.fileHandleForReading.fileDescriptor)
        #expect(await reader.next()?.count == 1_000)
        try await Task.sleep(for: .milliseconds(300))
        #expect(!done.withLock { $0 }, "the reader read ahead of what it was asked for")
        var count = 1
        while await reader.next() != nil { count += 1 }
        #expect(count == 2_000)
        try await eventually("the writer to finish") { done.withLock { $0 } }
    }
}
