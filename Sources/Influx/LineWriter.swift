import NIOCore

/// Writes the pieces of one line of line protocol straight into bytes reserved in a buffer:
/// no capacity check or exclusivity check per byte, which is what a `ByteBuffer` write costs.
/// Encoders of a fixed shape (ingest writes every reading the same way) use it instead of
/// building a `Point`; `LineProtocol` uses it for numbers.
public struct LineWriter: ~Copyable {
    private let bytes: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    public private(set) var count = 0

    init(_ bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }

    /// Runs `body` with a writer over `capacity` reserved bytes at the end of `buffer` and keeps
    /// what it wrote; on error (or when the line would not fit) nothing is kept.
    public static func append(
        to buffer: inout ByteBuffer, capacity: Int, _ body: (inout LineWriter) throws(LineProtocolError) -> Void
    ) throws(LineProtocolError) {
        var failure: LineProtocolError?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { bytes in
            var writer = LineWriter(UnsafeMutableRawBufferPointer(rebasing: bytes[..<capacity]))
            do throws(LineProtocolError) {
                try body(&writer)
                return writer.count
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
    }

    /// An upper bound for the bytes of one number written by this writer.
    public static let maxNumberBytes = 32

    // MARK: Pieces

    /// Appends bytes as they are (keys prepared in advance, separators).
    public mutating func write(_ text: StaticString) throws(LineProtocolError) {
        try write(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends bytes as they are.
    public mutating func write(_ source: UnsafeRawBufferPointer) throws(LineProtocolError) {
        guard source.count <= bytes.count - count else { throw Self.overflow }
        if let base = source.baseAddress {
            (bytes.baseAddress! + count).copyMemory(from: base, byteCount: source.count)
        }
        count += source.count
    }

    /// Appends prepared bytes as they are (tags already in line protocol).
    public mutating func write(bytes source: [UInt8]) throws(LineProtocolError) {
        guard source.count <= bytes.count - count else { throw Self.overflow }
        for byte in source {
            bytes[count] = byte
            count += 1
        }
    }

    /// Appends one byte.
    public mutating func write(byte: UInt8) throws(LineProtocolError) {
        guard count < bytes.count else { throw Self.overflow }
        bytes[count] = byte
        count += 1
    }

    /// Appends `text` escaped as a tag value, tag key or field key (comma, equals and space get a
    /// backslash); refuses line breaks and a trailing backslash, which line protocol cannot carry.
    public mutating func write(tagValue text: String, of key: StaticString) throws(LineProtocolError) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                throw LineProtocolError(
                    reason: "tag value '\(key)' contains a line break, which line protocol cannot carry")
            case UInt8(ascii: ","), UInt8(ascii: " "), UInt8(ascii: "="):
                try write(byte: UInt8(ascii: "\\"))
            default: break
            }
            try write(byte: byte)
        }
        if text.utf8.last == UInt8(ascii: "\\") {
            throw LineProtocolError(
                reason: "tag value '\(key)' ends with a backslash, which line protocol cannot carry")
        }
    }

    /// Appends the decimal digits of `value`.
    public mutating func write(decimal value: Int64) throws(LineProtocolError) {
        guard bytes.count - count >= 20 else { throw Self.overflow }
        var magnitude = value.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        if value < 0 {
            bytes[count] = UInt8(ascii: "-")
            count += 1
        }
        var position = count + digits
        count = position
        repeat {
            position -= 1
            bytes[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
    }

    /// Appends a float in its shortest round-tripping decimal form; throws for infinities and NaN.
    public mutating func write(float value: Double, field: @autoclosure () -> String) throws(LineProtocolError) {
        guard value.isFinite else {
            throw LineProtocolError(reason: "field '\(field())' is \(value); InfluxDB stores finite numbers only")
        }
        // Whole numbers below 1e15 convert to Int64 and back exactly (and a conversion is an
        // instruction, where `rounded()` is a call into libm on baseline x86-64).
        if abs(value) < 1e15, value == Double(Int64(value)) {
            return try write(decimal: Int64(value))
        }
        let magnitude = abs(value)
        if magnitude < 1e9 {
            // Sensor values mostly have a few decimals. The first k for which m / 10^k (m whole;
            // both exact doubles, so the division is correctly rounded) gives back the value:
            // then "m/10^k" in decimal parses to exactly this double. It is almost always the
            // shortest such decimal too (rounding in `magnitude * scale` could skip one; the
            // text is then longer but still exact).
            var scale = 1.0
            for places in 1...6 {
                scale *= 10
                // Below 1e15, so exact through Int64; any rounding will do, the check decides.
                let scaled = Double(Int64(magnitude * scale + 0.5))
                guard scaled / scale == magnitude else { continue }
                return try write(fixed: Int64(scaled), places: places, negative: value < 0)
            }
        }
        var text = value.description  // Swift's shortest form
        let written = text.withUTF8 { utf8 in
            Result { () throws(LineProtocolError) in try write(UnsafeRawBufferPointer(utf8)) }
        }
        try written.get()
    }

    /// Writes `digits / 10^places` with exactly `places` decimals (`5`, 2 → `0.05`).
    private mutating func write(fixed digits: Int64, places: Int, negative: Bool) throws(LineProtocolError) {
        var divisor: Int64 = 1
        for _ in 0..<places { divisor *= 10 }
        if negative { try write(byte: UInt8(ascii: "-")) }
        try write(decimal: digits / divisor)
        guard bytes.count - count > places else { throw Self.overflow }
        bytes[count] = UInt8(ascii: ".")
        var fraction = digits % divisor
        for index in stride(from: count + places, to: count, by: -1) {
            bytes[index] = UInt8(ascii: "0") + UInt8(fraction % 10)
            fraction /= 10
        }
        count += places + 1
    }

    private static var overflow: LineProtocolError {
        LineProtocolError(reason: "line longer than the space reserved for it")
    }
}
