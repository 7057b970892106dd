import Hummingbird
import MobyCore

/// Reads and checks URL query parameters, collecting a field error for each bad one so a
/// request with several mistakes learns about all of them (400 with `errors`). Values are
/// decoded as HTML forms encode them: `+` is a space, `%XX` a byte, and the result must be UTF-8.
struct QueryParameters {
    private let values: [String: String]
    private(set) var errors: [FieldError] = []

    init(_ request: Request) {
        var values: [String: String] = [:]
        var errors: [FieldError] = []
        for pair in (request.uri.query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.formDecoded(parts[0]) else {
                errors.append(
                    FieldError(field: "query", message: "a parameter name is not valid percent-encoded UTF-8"))
                continue
            }
            guard let value = Self.formDecoded(parts.count > 1 ? parts[1] : "") else {
                errors.append(FieldError(field: name, message: "not valid percent-encoded UTF-8"))
                continue
            }
            // The first occurrence counts, as with Hummingbird's own parameters.
            if values[name] == nil { values[name] = value }
        }
        self.values = values
        self.errors = errors
    }

    /// `text` with `+` as space and `%XX` decoded; nil when an escape or the UTF-8 is invalid.
    static func formDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    func string(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    /// A device id; a field error when it is not one (`DeviceID` explains).
    mutating func deviceID(_ name: String) -> String? {
        guard let text = string(name) else { return nil }
        if let problem = DeviceID.problem(text) {
            errors.append(FieldError(field: name, message: "not a device id: \(problem)"))
            return nil
        }
        return text
    }

    /// A comma-separated list; each item must be one of `allowed`.
    mutating func list<Value>(_ name: String, _ parse: (String) -> Value?, allowed: [String]) -> [Value] {
        guard let text = string(name) else { return [] }
        var values: [Value] = []
        for item in text.split(separator: ",").map(String.init) {
            guard let value = parse(item) else {
                errors.append(
                    FieldError(
                        field: name, message: "'\(item.prefix(64))' is not one of \(allowed.joined(separator: ", "))"))
                continue
            }
            values.append(value)
        }
        return values
    }

    mutating func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
        guard let text = string(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            errors.append(
                FieldError(
                    field: name, message: "must be a whole number in \(range.lowerBound)...\(range.upperBound)"))
            return fallback
        }
        return value
    }

    /// An RFC 3339 time, as nanoseconds since the epoch (always inside `RFC3339.earliest...latest`).
    mutating func time(_ name: String) -> Int64? {
        guard let text = string(name) else { return nil }
        guard let value = RFC3339.parse(text) else {
            errors.append(
                FieldError(
                    field: name,
                    message:
                        "'\(text.prefix(64))' is not an RFC 3339 time like 2026-01-31T12:00:00Z between \(RFC3339.format(RFC3339.earliest)) and \(RFC3339.format(RFC3339.latest))"
                ))
            return nil
        }
        return value
    }

    mutating func add(_ error: FieldError) { errors.append(error) }

    /// Throws 400 with every field error collected so far.
    func check() throws {
        guard errors.isEmpty else { throw APIError(.badRequest, "invalid query parameters", errors: errors) }
    }
}
