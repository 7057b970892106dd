import NIOCore

/// Why a point cannot be written as line protocol.
public struct LineProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// Encodes points as InfluxDB line protocol, applying every escaping rule: measurement (comma,
/// space), tag keys/values and field keys (comma, equals, space), string fields (quote,
/// backslash). Line breaks cannot be escaped in line protocol, so a point containing one is
/// refused: no newline ever reaches a line.
public enum LineProtocol {
    /// Appends `point` and a terminating newline to `buffer`. On error the buffer is unchanged.
    public static func encode(_ point: Point, into buffer: inout ByteBuffer) throws(LineProtocolError) {
        let start = buffer.writerIndex
        do {
            try writeLine(point, into: &buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// One line (with its newline) as a string, for tests and logs.
    public static func line(_ point: Point) throws(LineProtocolError) -> String {
        var buffer = ByteBuffer()
        try encode(point, into: &buffer)
        return String(buffer: buffer)
    }

    /// Appends the decimal digits of `value` (no suffix), without making a string.
    public static func writeDecimal(_ value: Int64, into buffer: inout ByteBuffer) {
        try? LineWriter.append(to: &buffer, capacity: LineWriter.maxNumberBytes) { writer throws(LineProtocolError) in
            try writer.write(decimal: value)
        }
    }

    /// Appends a float field value; throws for infinities and NaN, which InfluxDB cannot store.
    public static func writeFloatValue(
        _ value: Double, field: @autoclosure () -> String, into buffer: inout ByteBuffer
    ) throws(LineProtocolError) {
        try LineWriter.append(to: &buffer, capacity: LineWriter.maxNumberBytes) { writer throws(LineProtocolError) in
            try writer.write(float: value, field: field())
        }
    }

    private static func writeLine(_ point: Point, into buffer: inout ByteBuffer) throws(LineProtocolError) {
        guard !point.measurement.isEmpty else { throw LineProtocolError(reason: "empty measurement name") }
        guard !point.fields.isEmpty else { throw LineProtocolError(reason: "a point needs at least one field") }
        try writeEscaped(point.measurement, what: "measurement", kind: .measurement, into: &buffer)
        let tags =
            point.tags.count > 1 ? point.tags.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } : point.tags
        for tag in tags {
            guard !tag.key.isEmpty else { throw LineProtocolError(reason: "empty tag key") }
            guard !tag.value.isEmpty else { continue }  // InfluxDB has no empty tag values: omit the tag
            buffer.writeInteger(UInt8(ascii: ","))
            try writeEscaped(tag.key, what: "tag key", kind: .key, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "="))
            try writeEscaped(tag.value, what: "tag value '\(tag.key)'", kind: .key, into: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: " "))
        var first = true
        for field in point.fields {
            guard !field.key.isEmpty else { throw LineProtocolError(reason: "empty field key") }
            if !first { buffer.writeInteger(UInt8(ascii: ",")) }
            first = false
            try writeEscaped(field.key, what: "field key", kind: .key, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "="))
            switch field.value {
            case .float(let value):
                try writeFloatValue(value, field: field.key, into: &buffer)
            case .integer(let value):
                writeDecimal(value, into: &buffer)
                buffer.writeInteger(UInt8(ascii: "i"))
            case .unsigned(let value):
                buffer.writeString(String(value))
                buffer.writeInteger(UInt8(ascii: "u"))
            case .boolean(let value):
                buffer.writeStaticString(value ? "true" : "false")
            case .string(let value):
                buffer.writeInteger(UInt8(ascii: "\""))
                try writeEscaped(value, what: "string field '\(field.key)'", kind: .stringField, into: &buffer)
                buffer.writeInteger(UInt8(ascii: "\""))
            }
        }
        if let timestamp = point.timestamp {
            buffer.writeInteger(UInt8(ascii: " "))
            writeDecimal(timestamp, into: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    private enum Kind { case measurement, key, stringField }

    private static func writeEscaped(
        _ text: String, what: @autoclosure () -> String, kind: Kind, into buffer: inout ByteBuffer
    ) throws(LineProtocolError) {
        var needsWork = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: ","), UInt8(ascii: " "), UInt8(ascii: "="), UInt8(ascii: "\""),
                UInt8(ascii: "\\"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                needsWork = true
            default: continue
            }
            if needsWork { break }
        }
        guard needsWork else {
            buffer.writeString(text)
            return
        }
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                throw LineProtocolError(reason: "\(what()) contains a line break, which line protocol cannot carry")
            }
            switch kind {
            case .measurement:
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: " ") { buffer.writeInteger(UInt8(ascii: "\\")) }
            case .key:
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "=") {
                    buffer.writeInteger(UInt8(ascii: "\\"))
                }
            case .stringField:
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { buffer.writeInteger(UInt8(ascii: "\\")) }
            }
            buffer.writeInteger(byte)
        }
        if kind != .stringField, text.utf8.last == UInt8(ascii: "\\") {
            // A trailing backslash would escape the separator that follows it.
            throw LineProtocolError(reason: "\(what()) ends with a backslash, which line protocol cannot carry")
        }
    }

}
