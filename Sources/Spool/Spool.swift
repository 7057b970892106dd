import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A durable first-in-first-out queue of line-protocol batches on disk, for while InfluxDB is
/// unreachable. `append` returns only after the batch is fsynced, so the messages in it can be
/// acknowledged to the broker; batches come back out oldest first. A crash mid-append leaves a
/// torn last record, which the next start detects (length and CRC) and cuts off without
/// touching the records before it. Anything else, a read error or a record that fails its check
/// with data after it, stops the start with `SpoolError` and changes nothing.
///
/// Files: `segment-<n>.spool` (records: magic, payload length, line count, CRC-32, payload) and
/// `cursor` (the segment and offset of the oldest record not yet written to InfluxDB).
public final class Spool: Sendable {
    /// One or more consecutive stored batches, read together.
    public struct Record: Sendable {
        /// The batches' bodies, concatenated (line protocol concatenates).
        public var body: ByteBuffer
        public var lines: Int
        /// How many stored batches this covers.
        public var batches: Int
        fileprivate var segment: UInt64
        fileprivate var end: Int64
        fileprivate var storedBytes: Int64
    }

    /// How full the spool is.
    public struct Depth: Sendable, Equatable {
        public var records: Int
        public var lines: Int
        public var bytes: Int64
    }

    static let headerSize = 16
    static let magic: UInt32 = 0x4D42_5331  // "MBS1"
    /// Records are batches of at most a few MB; anything claiming more is corruption.
    static let maxRecordBytes = 256 * 1024 * 1024

    public let directory: String
    public let maxBytes: Int64
    public let segmentBytes: Int64
    /// What the start-up scan found and repaired (torn tails), for the log.
    public let recoveryNotes: [String]

    private struct State {
        var segments: [UInt64] = []
        var sizes: [UInt64: Int64] = [:]
        var cursorSegment: UInt64 = 0
        var cursorOffset: Int64 = 0
        var appendFD: Int32 = -1
        var readFD: Int32 = -1
        var readSegment: UInt64 = 0
        var depth = Depth(records: 0, lines: 0, bytes: 0)
        /// The highest segment number used so far.
        var lastSegment: UInt64 = 0
        /// Holds the directory's lock while the spool is open.
        var lockFD: Int32 = -1
        var closed = false
    }

    private let state: Mutex<State>
    /// `state.depth` as of the last change, readable while an append holds `state` through its
    /// fsync (health checks must not wait for the disk).
    private let publishedDepth: Mutex<Depth>

    /// Opens (creating if needed) the spool in `directory`, checking every stored record.
    public init(directory: String, maxBytes: Int64, segmentBytes: Int64 = 64 * 1024 * 1024) throws(SpoolError) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.segmentBytes = segmentBytes
        try Self.makeDirectory(directory)
        var state = State()
        state.lockFD = try Self.lock(directory)
        var notes: [String] = []
        do throws(SpoolError) {
            try Self.recover(directory: directory, into: &state, notes: &notes)
        } catch {
            close(state.lockFD)
            throw error
        }
        self.recoveryNotes = notes
        self.publishedDepth = Mutex(state.depth)
        self.state = Mutex(state)
    }

    deinit { release() }

    /// Closes its files and releases the folder's lock, so another process (or another `Spool`
    /// of this one) may open it; what it holds stays on disk for them. Using it afterwards is
    /// an error. Called when its writer is done, instead of waiting for the object to be freed.
    public func release() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            for descriptor in [state.appendFD, state.readFD, state.lockFD] where descriptor >= 0 {
                close(descriptor)
            }
            (state.appendFD, state.readFD, state.lockFD) = (-1, -1, -1)
        }
    }

    private static func ensureOpen(_ state: State, _ directory: String) throws(SpoolError) {
        guard !state.closed else { throw .io("use of the released spool \(directory)", EBADF) }
    }

    /// Takes the directory for this process: an exclusive `flock` on its `lock` file (released
    /// when the spool is closed or the process ends, a crash included), with our pid written in
    /// it. Two processes on one spool would write the same segments and overwrite each other's
    /// cursor (readings lost or sent twice), so the second is refused, naming the first.
    private static func lock(_ directory: String) throws(SpoolError) -> Int32 {
        let path = "\(directory)/lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io("open \(path)", errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            var raw = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &raw, raw.count, 0)
            close(descriptor)
            guard code == EWOULDBLOCK else { throw .io("lock \(path)", code) }
            let holder = raw.prefix(max(0, count)).prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            throw .inUse(directory: directory, holder: Int32(String(decoding: holder, as: UTF8.self)))
        }
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) != 0 || pwrite(descriptor, pid, pid.count, 0) != pid.count {
            let code = errno
            close(descriptor)
            throw .io("write \(path)", code)
        }
        return descriptor
    }

    /// What the spool holds; never waits for disk I/O in progress.
    public var depth: Depth { publishedDepth.withLock { $0 } }

    public var isEmpty: Bool { depth.records == 0 }

    /// Appends one batch and fsyncs it. Throws `.full` when it would exceed `maxBytes`.
    public func append(_ body: ByteBuffer, lines: Int) throws(SpoolError) {
        let recordSize = Int64(Self.headerSize + body.readableBytes)
        try state.withLock { (state: inout State) throws(SpoolError) in
            try Self.ensureOpen(state, directory)
            guard state.depth.bytes + recordSize <= maxBytes else {
                throw .full(bytes: state.depth.bytes, limit: maxBytes)
            }
            if state.appendFD < 0 || (state.sizes[state.segments.last ?? 0] ?? 0) + recordSize > segmentBytes {
                try openNewSegment(&state)
            }
            let segment = state.segments.last!
            let offset = state.sizes[segment] ?? 0
            var record = ByteBuffer()
            record.reserveCapacity(Int(recordSize))
            record.writeInteger(Self.magic)
            record.writeInteger(UInt32(body.readableBytes))
            record.writeInteger(UInt32(clamping: lines))
            let crc = body.withUnsafeReadableBytes { payload in
                var count = UInt32(clamping: lines).bigEndian
                let seed = withUnsafeBytes(of: &count) { CRC32.update(0, $0) }
                return CRC32.update(seed, payload)
            }
            record.writeInteger(crc)
            record.writeImmutableBuffer(body)
            do throws(SpoolError) {
                try Self.writeAll(state.appendFD, record, at: offset, path: segmentPath(segment))
                guard fdatasync(state.appendFD) == 0 else {
                    throw SpoolError.io("fsync \(segmentPath(segment))", errno)
                }
            } catch {
                _ = ftruncate(state.appendFD, off_t(offset))
                throw error
            }
            state.sizes[segment] = offset + recordSize
            state.depth.records += 1
            state.depth.lines += lines
            state.depth.bytes += recordSize
            publish(state.depth)
        }
    }

    private func publish(_ depth: Depth) { publishedDepth.withLock { $0 = depth } }

    /// The oldest batch not yet removed, or nil when the spool is empty.
    /// Consecutive batches are merged up to `maxLines` lines, so a spool of many small batches
    /// drains in few large writes.
    public func peek(maxLines: Int = 1) throws(SpoolError) -> Record? {
        try state.withLock { (state: inout State) throws(SpoolError) -> Record? in
            try Self.ensureOpen(state, directory)
            while state.depth.records > 0 {
                let segment = state.cursorSegment
                let size = state.sizes[segment] ?? 0
                if state.cursorOffset >= size {
                    guard let next = state.segments.first(where: { $0 > segment }) else { return nil }
                    try advance(&state, to: next)
                    continue
                }
                if state.readFD < 0 || state.readSegment != segment {
                    if state.readFD >= 0 { close(state.readFD) }
                    state.readFD = open(segmentPath(segment), O_RDONLY | O_CLOEXEC)
                    guard state.readFD >= 0 else { throw .io("open \(segmentPath(segment))", errno) }
                    state.readSegment = segment
                }
                var record = Record(
                    body: ByteBuffer(), lines: 0, batches: 0, segment: segment, end: state.cursorOffset, storedBytes: 0)
                // Whole batches from this segment, up to `maxLines` (always at least one).
                while record.end < size {
                    let path = segmentPath(segment)
                    guard
                        case .record(let body, let lines, let end) = try Self.readRecord(
                            fd: state.readFD, at: record.end, size: size, path: path)
                    else {
                        if record.batches > 0 { break }
                        throw .corrupt(
                            "\(path): the record at offset \(record.end), checked at start, fails its check now")
                    }
                    if record.batches > 0 && record.lines + lines > maxLines { break }
                    var batch = body
                    record.body.writeBuffer(&batch)
                    record.lines += lines
                    record.batches += 1
                    record.storedBytes += end - record.end
                    record.end = end
                }
                return record
            }
            return nil
        }
    }

    /// Marks `record` (the one `peek` returned) as written to InfluxDB.
    public func remove(_ record: Record) throws(SpoolError) {
        try state.withLock { (state: inout State) throws(SpoolError) in
            try Self.ensureOpen(state, directory)
            guard record.segment == state.cursorSegment, record.end > state.cursorOffset else { return }
            state.cursorOffset = record.end
            state.depth.records -= record.batches
            state.depth.lines -= record.lines
            state.depth.bytes -= record.storedBytes
            publish(state.depth)
            if state.depth.records == 0, !keepsAppending(state) {
                try reset(&state)
            } else {
                try writeCursor(state)
            }
        }
    }

    /// A drained spool keeps the segment it appends to while that is small: an edge agent's
    /// outbox drains to empty after nearly every group of readings, and deleting the file each
    /// time, then creating a new one and syncing the folder, made 18 files a second at 5,000
    /// readings/s (metadata writes that wear a device's flash). The cursor at the segment's end
    /// says everything before it was written; the next start, finding nothing after the cursor,
    /// deletes the file.
    private func keepsAppending(_ state: State) -> Bool {
        guard state.appendFD >= 0, let last = state.segments.last, last == state.cursorSegment else { return false }
        return (state.sizes[last] ?? 0) < Self.keptSegmentBytes
    }

    /// Up to this size a drained spool's segment is kept (written batches in it stay on disk
    /// until it fills or the next start).
    static let keptSegmentBytes: Int64 = 1024 * 1024

    // MARK: Internals (called with the lock held)

    private func segmentPath(_ segment: UInt64) -> String { Self.segmentPath(directory, segment) }

    static func segmentPath(_ directory: String, _ segment: UInt64) -> String {
        let digits = String(segment)
        return "\(directory)/segment-\(String(repeating: "0", count: max(0, 12 - digits.count)))\(digits).spool"
    }

    private func openNewSegment(_ state: inout State) throws(SpoolError) {
        if state.appendFD >= 0 { close(state.appendFD) }
        let segment = state.lastSegment + 1
        let fd = open(segmentPath(segment), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("create \(segmentPath(segment))", errno) }
        state.appendFD = fd
        state.lastSegment = segment
        state.segments.append(segment)
        state.sizes[segment] = 0
        if state.segments.count == 1 {
            state.cursorSegment = segment
            state.cursorOffset = 0
            try writeCursor(state)
        }
        try Self.syncDirectory(directory)
    }

    private func advance(_ state: inout State, to next: UInt64) throws(SpoolError) {
        let finished = state.cursorSegment
        state.cursorSegment = next
        state.cursorOffset = 0
        try writeCursor(state)
        if state.readFD >= 0, state.readSegment == finished {
            close(state.readFD)
            state.readFD = -1
        }
        unlink(segmentPath(finished))
        state.segments.removeAll { $0 == finished }
        state.sizes[finished] = nil
    }

    /// Everything was written: delete the files; numbering continues after the last segment so
    /// a stale cursor can never point into a newer file.
    private func reset(_ state: inout State) throws(SpoolError) {
        if state.appendFD >= 0 { close(state.appendFD) }
        if state.readFD >= 0 { close(state.readFD) }
        state.appendFD = -1
        state.readFD = -1
        for segment in state.segments { unlink(segmentPath(segment)) }
        state.segments = []
        state.sizes = [:]
        state.cursorSegment = state.lastSegment + 1
        state.cursorOffset = 0
        state.depth = Depth(records: 0, lines: 0, bytes: 0)
        try writeCursor(state)
    }

    private func writeCursor(_ state: State) throws(SpoolError) {
        let text = "\(state.cursorSegment) \(state.cursorOffset)\n"
        let temporary = "\(directory)/cursor.tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("create \(temporary)", errno) }
        defer { close(fd) }
        try Self.writeAll(fd, ByteBuffer(string: text), at: 0, path: temporary)
        guard fdatasync(fd) == 0 else { throw .io("fsync \(temporary)", errno) }
        guard rename(temporary, "\(directory)/cursor") == 0 else { throw .io("rename \(temporary)", errno) }
    }

    // MARK: Files

    static func makeDirectory(_ path: String) throws(SpoolError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw .io("mkdir \(current)", errno) }
        }
    }

    static func syncDirectory(_ path: String) throws(SpoolError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("open \(path)", errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io("fsync \(path)", errno) }
    }

    static func writeAll(_ fd: Int32, _ buffer: ByteBuffer, at offset: Int64, path: String) throws(SpoolError) {
        let failure: Int32? = buffer.withUnsafeReadableBytes { bytes in
            var done = 0
            while done < bytes.count {
                let written = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + Int64(done)))
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += written
            }
            return nil
        }
        if let failure { throw .io("write \(path)", failure) }
    }

    /// Reads `count` bytes at `offset`: nil when the file ends first (a torn record); throws
    /// when the disk fails, so an I/O error is never mistaken for a torn tail.
    static func readExactly(_ fd: Int32, count: Int, at offset: Int64, path: String) throws(SpoolError) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        let failure: Int32? = bytes.withUnsafeMutableBytes { buffer -> Int32? in
            while done < count {
                let read = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + Int64(done)))
                if read < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if read == 0 { break }
                done += read
            }
            return nil
        }
        if let failure { throw .io("read \(path) at \(offset)", failure) }
        return done == count ? bytes : nil
    }

    /// What is at an offset of a segment.
    enum Slot {
        /// A whole record that passes its checks.
        case record(ByteBuffer, lines: Int, end: Int64)
        /// A record that fails its checks (length, magic, CRC) and ends at `end`, or whose
        /// claimed length runs past the end of the file (`end` nil).
        case damaged(end: Int64?)
    }

    /// Reads and checks the record at `offset`; throws only for an I/O error.
    static func readRecord(fd: Int32, at offset: Int64, size: Int64, path: String) throws(SpoolError) -> Slot {
        guard offset + Int64(headerSize) <= size,
            let header = try readExactly(fd, count: headerSize, at: offset, path: path)
        else { return .damaged(end: nil) }
        var headerBuffer = ByteBuffer(bytes: header)
        guard let magic = headerBuffer.readInteger(as: UInt32.self),
            let length = headerBuffer.readInteger(as: UInt32.self),
            let lines = headerBuffer.readInteger(as: UInt32.self), let crc = headerBuffer.readInteger(as: UInt32.self)
        else { return .damaged(end: nil) }
        let end = offset + Int64(headerSize) + Int64(length)
        guard magic == Self.magic, Int(length) <= maxRecordBytes else { return .damaged(end: nil) }
        guard end <= size,
            let payload = try readExactly(fd, count: Int(length), at: offset + Int64(headerSize), path: path)
        else { return .damaged(end: nil) }
        var count = lines.bigEndian
        let seed = withUnsafeBytes(of: &count) { CRC32.update(0, $0) }
        let actual = payload.withUnsafeBytes { CRC32.update(seed, $0) }
        guard actual == crc else { return .damaged(end: end) }
        return .record(ByteBuffer(bytes: payload), lines: Int(lines), end: end)
    }

    /// Whether a damaged record at `offset` is the torn tail a crash in the middle of an append
    /// leaves: in the last segment (the only one ever appended to), and nothing after it but
    /// the record itself or zeros (space the file system allocated but never wrote).
    static func isTornTail(
        fd: Int32, at offset: Int64, damagedEnd: Int64?, size: Int64, lastSegment: Bool, path: String
    ) throws(SpoolError) -> Bool {
        guard lastSegment else { return false }
        if let damagedEnd, damagedEnd == size { return true }
        if damagedEnd == nil {
            // The header is cut off, its length runs past the end, or its magic is wrong.
            let rest = Int(size - offset)
            if rest < headerSize { return true }
            guard rest <= maxRecordBytes + headerSize,
                let header = try readExactly(fd, count: headerSize, at: offset, path: path)
            else { return false }
            var buffer = ByteBuffer(bytes: header)
            if buffer.readInteger(as: UInt32.self) == Self.magic,
                let length = buffer.readInteger(as: UInt32.self), offset + Int64(headerSize) + Int64(length) > size
            {
                return true
            }
            guard let bytes = try readExactly(fd, count: rest, at: offset, path: path) else { return false }
            return bytes.allSatisfy { $0 == 0 }
        }
        return false
    }

    /// Scans the directory: drops consumed segments, validates every record after the cursor,
    /// cuts a torn or corrupt tail off the segment it is in.
    private static func recover(directory: String, into state: inout State, notes: inout [String]) throws(SpoolError) {
        guard let dir = opendir(directory) else { throw .io("open \(directory)", errno) }
        var segments: [UInt64] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("segment-"), name.hasSuffix(".spool"),
                let number = UInt64(name.dropFirst("segment-".count).dropLast(".spool".count))
            {
                segments.append(number)
            }
        }
        closedir(dir)
        segments.sort()
        state.lastSegment = segments.last ?? 0
        var cursorSegment = segments.first ?? 1
        var cursorOffset: Int64 = 0
        let cursorFD = open("\(directory)/cursor", O_RDONLY | O_CLOEXEC)
        if cursorFD >= 0 {
            var raw = [UInt8](repeating: 0, count: 64)
            let count = read(cursorFD, &raw, raw.count)
            close(cursorFD)
            let parts = String(decoding: raw.prefix(max(0, count)), as: UTF8.self).split(whereSeparator: {
                $0 == " " || $0 == "\n"
            })
            if parts.count == 2, let segment = UInt64(parts[0]), let offset = Int64(parts[1]) {
                cursorSegment = segment
                cursorOffset = offset
                state.lastSegment = max(state.lastSegment, segment > 0 ? segment - 1 : 0)
            } else {
                notes.append("unreadable cursor file; replaying from the oldest segment")
            }
        }
        for segment in segments where segment < cursorSegment {
            unlink(segmentPath(directory, segment))
        }
        segments.removeAll { $0 < cursorSegment }
        if segments.first != cursorSegment { cursorOffset = 0 }
        if let first = segments.first { cursorSegment = first }
        for segment in segments {
            let path = segmentPath(directory, segment)
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw .io("open \(path)", errno) }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw .io("stat \(path)", errno) }
            var size = Int64(info.st_size)
            var offset: Int64 = segment == cursorSegment ? min(cursorOffset, size) : 0
            while offset < size {
                switch try readRecord(fd: fd, at: offset, size: size, path: path) {
                case .record(let body, let lines, let end):
                    state.depth.records += 1
                    state.depth.lines += lines
                    state.depth.bytes += Int64(headerSize + body.readableBytes)
                    offset = end
                case .damaged(let end):
                    guard
                        try isTornTail(
                            fd: fd, at: offset, damagedEnd: end, size: size, lastSegment: segment == segments.last,
                            path: path)
                    else {
                        // Not what a crash leaves: cutting here could drop good batches after it.
                        throw .corrupt(
                            "\(path): the record at offset \(offset) fails its check and \(size - offset) bytes follow; "
                                + "this is damage, not a torn write, and nothing was changed. Move the file out of "
                                + "\(directory) to start without its batches (they are lost), or restore it")
                    }
                    notes.append(
                        "\(path): \(size - offset) bytes from offset \(offset) are a torn last record; cut off")
                    guard ftruncate(fd, off_t(offset)) == 0, fsync(fd) == 0 else {
                        throw .io("truncate \(path)", errno)
                    }
                    size = offset
                }
            }
            state.sizes[segment] = offset
        }
        state.segments = segments
        state.cursorSegment = cursorSegment
        state.cursorOffset = segments.isEmpty ? 0 : cursorOffset
        if state.depth.records == 0 {
            // Nothing left: start clean.
            for segment in segments { unlink(segmentPath(directory, segment)) }
            state.segments = []
            state.sizes = [:]
            state.cursorSegment = state.lastSegment + 1
            state.cursorOffset = 0
        }
        // Appends go to a fresh segment after a restart: the old tail stays as it was checked.
    }
}

/// Why the spool could not take or give a batch.
public enum SpoolError: Error, Sendable, CustomStringConvertible {
    /// The spool holds `bytes` of its `limit`; the caller must hold on (stop acknowledging).
    case full(bytes: Int64, limit: Int64)
    case io(String, Int32)
    /// A stored record fails its check where no crash could have left it (not the torn tail of
    /// the last segment); nothing was changed.
    case corrupt(String)
    /// Another process has the spool open (its pid, when it wrote one).
    case inUse(directory: String, holder: Int32?)

    public var description: String {
        switch self {
        case .inUse(let directory, let holder):
            "spool \(directory) is in use by \(holder == getpid() ? "this process (opened twice)" : "another process\(holder.map { " (pid \($0))" } ?? "")"); "
                + "two processes on one spool would lose readings: give each its own directory, or stop the other"
        case .corrupt(let what): "spool damaged: \(what)"
        case .full(let bytes, let limit): "spool full (\(bytes) of \(limit) bytes)"
        case .io(let what, let code): "spool I/O error: \(what): \(String(cString: strerror(code)))"
        }
    }
}
