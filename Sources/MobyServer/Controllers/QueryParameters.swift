import Hummingbird
import MobyCore

/// Reads and checks URL query parameters, collecting a field error for each bad one so a
/// request with several mistakes learns about all of them (400 with `errors`).
struct QueryParameters {
    let request: Request
    private(set) var errors: [FieldError] = []

    init(_ request: Request) { self.request = request }

    func string(_ name: String) -> String? {
        guard let value = request.uri.queryParameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    /// A comma-separated list; each item must be one of `allowed`.
    mutating func list<Value>(_ name: String, _ parse: (String) -> Value?, allowed: [String]) -> [Value] {
        guard let text = string(name) else { return [] }
        var values: [Value] = []
        for item in text.split(separator: ",").map(String.init) {
            guard let value = parse(item) else {
                errors.append(
                    FieldError(field: name, message: "'\(item)' is not one of \(allowed.joined(separator: ", "))"))
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

    /// An RFC 3339 time, as nanoseconds since the epoch.
    mutating func time(_ name: String) -> Int64? {
        guard let text = string(name) else { return nil }
        guard let value = RFC3339.parse(text) else {
            errors.append(
                FieldError(field: name, message: "'\(text)' is not an RFC 3339 time like 2026-01-31T12:00:00Z"))
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
