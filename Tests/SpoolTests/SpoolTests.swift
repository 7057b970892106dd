import Foundation
import MobyTestSupport
import NIOCore
import Testing

@testable import Spool

@Suite struct SpoolTests {
    func batch(_ index: Int, lines: Int = 3) -> ByteBuffer {
        ByteBuffer(string: (0..<lines).map { "m,k=v\(index) f=\($0)i \(index)\n" }.joined())
    }

    func drain(_ spool: Spool) throws -> [String] {
        var bodies: [String] = []
        while let record = try spool.peek() {
            bodies.append(String(buffer: record.body))
            try spool.remove(record)
        }
        return bodies
    }

    /// A spool folder holding `batches` batches of 3 lines, closed (as after a crash or a stop),
    /// and its last segment file.
    func closedSpool(batches: Int) throws -> (directory: URL, file: URL) {
        let directory = try TestPaths.scratch("spool")
        do {
            let spool = try Spool(directory: directory.path, maxBytes: 1 << 30)
            for index in 0..<batches { try spool.append(batch(index), lines: 3) }
        }
        return (directory, try #require(try segmentFiles(directory).last))
    }

    func segmentFiles(_ directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "spool" }.sorted { $0.path < $1.path }
    }

    @Test func firstInFirstOutAcrossSegments() throws {
        let directory = try TestPaths.scratch("spool")
        do {
            let spool = try Spool(directory: directory.path, maxBytes: 1 << 30, segmentBytes: 200)
            for index in 0..<20 { try spool.append(batch(index), lines: 3) }
            #expect(spool.depth.records == 20)
            #expect(spool.depth.lines == 60)
            #expect(try segmentFiles(directory).count > 3, "small segments roll over")
            #expect(try drain(spool) == (0..<20).map { String(buffer: batch($0)) })
            #expect(spool.isEmpty)
            #expect(try segmentFiles(directory).count == 1, "a drained spool deletes its finished segments")
            // It keeps appending to the small one it has; reopened with nothing to write, it
            // deletes that too.
            try spool.append(batch(20), lines: 3)
            #expect(try drain(spool) == [String(buffer: batch(20))])
            #expect(try segmentFiles(directory).count == 1)
        }
        let reopened = try Spool(directory: directory.path, maxBytes: 1 << 30, segmentBytes: 200)
        #expect(reopened.isEmpty)
        #expect(try segmentFiles(directory).isEmpty, "a drained spool found at start is deleted")
        #expect(try reopened.peek() == nil)
    }

    @Test func aDrainedSpoolKeepsItsSmallSegmentAndForgetsNothing() throws {
        let directory = try TestPaths.scratch("spool")
        do {
            let spool = try Spool(directory: directory.path, maxBytes: 1 << 30)
            // Drained after every batch, as an edge agent's outbox is: one file throughout.
            var files: Set<String> = []
            for index in 0..<50 {
                try spool.append(batch(index), lines: 3)
                files.formUnion(try segmentFiles(directory).map(\.lastPathComponent))
                #expect(try drain(spool) == [String(buffer: batch(index))])
            }
            #expect(files.count == 1, "no new segment per drain: \(files.sorted())")
            #expect(spool.depth == Spool.Depth(records: 0, lines: 0, bytes: 0))
            // A batch appended after a drain survives a restart, and only it comes back.
            try spool.append(batch(99), lines: 3)
        }
        let reopened = try Spool(directory: directory.path, maxBytes: 1 << 30)
        #expect(reopened.depth.records == 1)
        #expect(try drain(reopened) == [String(buffer: batch(99))])
    }

    @Test func survivesReopeningMidway() throws {
        let directory = try TestPaths.scratch("spool")
        do {
            let spool = try Spool(directory: directory.path, maxBytes: 1 << 30, segmentBytes: 300)
            for index in 0..<10 { try spool.append(batch(index), lines: 3) }
            for _ in 0..<4 {
                let record = try #require(try spool.peek())
                try spool.remove(record)
            }
        }
        do {
            let reopened = try Spool(directory: directory.path, maxBytes: 1 << 30, segmentBytes: 300)
            #expect(reopened.depth.records == 6)
            #expect(reopened.recoveryNotes.isEmpty)
            try reopened.append(batch(10), lines: 3)
            #expect(try drain(reopened) == (4...10).map { String(buffer: batch($0)) })
            // And the numbering after a drain never reuses an old segment with a stale cursor.
            try reopened.append(batch(11), lines: 3)
        }
        let again = try Spool(directory: directory.path, maxBytes: 1 << 30)
        #expect(try drain(again) == [String(buffer: batch(11))])
    }

    @Test func aSecondOpenOfAnOpenSpoolIsRefusedNamingTheHolder() throws {
        let directory = try TestPaths.scratch("spool")
        do {
            let first = try Spool(directory: directory.path, maxBytes: 1 << 30)
            try first.append(batch(0), lines: 3)
            #expect {
                _ = try Spool(directory: directory.path, maxBytes: 1 << 30)
            } throws: { error in
                guard case .inUse(let path, let holder) = error as? SpoolError else { return false }
                return path == directory.path && holder == getpid() && "\(error)".contains("this process")
            }
            #expect(first.depth.records == 1, "the refused open changed nothing")
        }
        // Closed (or its process gone, a crash included): the next one opens it.
        let next = try Spool(directory: directory.path, maxBytes: 1 << 30)
        #expect(try drain(next) == [String(buffer: batch(0))])
        try next.append(batch(1), lines: 3)
        // Released while still referenced: free for another, and no longer usable.
        next.release()
        #expect(throws: SpoolError.self) { try next.append(batch(2), lines: 3) }
        #expect(throws: SpoolError.self) { _ = try next.peek() }
        let after = try Spool(directory: directory.path, maxBytes: 1 << 30)
        #expect(try drain(after) == [String(buffer: batch(1))])
        _ = next  // still alive here
    }

    @Test func tornLastRecordIsCutOffAndEarlierRecordsKept() throws {
        let (directory, file) = try closedSpool(batches: 3)
        let data = try Data(contentsOf: file)
        // A crash in the middle of writing the third record.
        try data.prefix(data.count - 7).write(to: file)
        let spool = try Spool(directory: directory.path, maxBytes: 1 << 30)
        #expect(spool.depth.records == 2)
        #expect(spool.recoveryNotes.count == 1)
        #expect(try drain(spool) == [String(buffer: batch(0)), String(buffer: batch(1))])
    }

    @Test func corruptedRecordIsDetectedByItsChecksum() throws {
        let (directory, file) = try closedSpool(batches: 3)
        var data = try Data(contentsOf: file)
        data[data.count - 2] ^= 0xFF  // a flipped bit in the last record's payload
        try data.write(to: file)
        let spool = try Spool(directory: directory.path, maxBytes: 1 << 30)
        #expect(spool.depth.records == 2)
        #expect(try drain(spool).count == 2)
    }

    @Test func damageBeforeTheLastRecordStopsTheStartAndChangesNothing() throws {
        let (directory, file) = try closedSpool(batches: 3)
        var data = try Data(contentsOf: file)
        data[Spool.headerSize + 3] ^= 0xFF  // a flipped bit in the first record's payload
        try data.write(to: file)
        let error = try #require(throws: SpoolError.self) {
            _ = try Spool(directory: directory.path, maxBytes: 1 << 30)
        }
        guard case .corrupt(let what) = error else {
            Issue.record("expected .corrupt, got \(error)")
            return
        }
        #expect(
            what.contains(file.lastPathComponent) && what.contains("offset 0"), "names the file and offset: \(what)")
        #expect(try Data(contentsOf: file) == data, "the damaged segment is left as it was")
    }

    @Test func zeroFilledTailIsATornWrite() throws {
        let (directory, file) = try closedSpool(batches: 2)
        // Power lost after the file grew but before the record's bytes reached the disk.
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(count: 40))
        try handle.close()
        let spool = try Spool(directory: directory.path, maxBytes: 1 << 30)
        #expect(spool.recoveryNotes.count == 1)
        #expect(try drain(spool) == [String(buffer: batch(0)), String(buffer: batch(1))])
    }

    @Test func aReadErrorIsAnErrorNotATornRecord() throws {
        // pread on a pipe fails (ESPIPE) the way it fails on a bad disk (EIO): it must throw,
        // never look like a record cut short.
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer {
            close(ends[0])
            close(ends[1])
        }
        #expect(throws: SpoolError.self) {
            _ = try Spool.readRecord(fd: ends[0], at: 0, size: 1_000, path: "pipe")
        }
    }

    @Test func fullSpoolRefusesInsteadOfGrowing() throws {
        let directory = try TestPaths.scratch("spool")
        let one = Int64(Spool.headerSize + batch(0).readableBytes)
        let spool = try Spool(directory: directory.path, maxBytes: one * 3)
        for index in 0..<3 { try spool.append(batch(index), lines: 3) }
        #expect(throws: SpoolError.self) { try spool.append(batch(3), lines: 3) }
        #expect(spool.depth.records == 3)
        let record = try #require(try spool.peek())
        try spool.remove(record)
        try spool.append(batch(3), lines: 3)
        #expect(try drain(spool).count == 3)
    }

    @Test func mergesConsecutiveBatchesUpToALimit() throws {
        let directory = try TestPaths.scratch("spool")
        let spool = try Spool(directory: directory.path, maxBytes: 1 << 30)
        for index in 0..<10 { try spool.append(batch(index, lines: 3), lines: 3) }
        let first = try #require(try spool.peek(maxLines: 10))
        #expect(first.batches == 3)
        #expect(first.lines == 9)
        #expect(String(buffer: first.body) == (0..<3).map { String(buffer: batch($0)) }.joined())
        try spool.remove(first)
        #expect(spool.depth.records == 7)
        #expect(spool.depth.lines == 21)
        let rest = try #require(try spool.peek(maxLines: 1_000))
        #expect(rest.batches == 7)
        try spool.remove(rest)
        #expect(spool.isEmpty)
        #expect(spool.depth.bytes == 0)
        // A single batch larger than the limit still comes out whole.
        try spool.append(batch(42, lines: 50), lines: 50)
        #expect(try spool.peek(maxLines: 10)?.lines == 50)
    }

    @Test func crcMatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func eightBytesAtATimeEqualsOneAtATime() {
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1_000, 4_099] {
            // Deterministic bytes that still cover every value and bit pattern.
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
            for start in [0, 1, 3] where start <= length {
                bytes[start...].withUnsafeBytes { slice in
                    #expect(
                        CRC32.update(0x1234_5678, slice) == CRC32.updateBytewise(0x1234_5678, slice),
                        "\(length)/\(start)")
                }
            }
        }
    }
}
