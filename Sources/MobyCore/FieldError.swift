/// Why one field of a reading or request was refused; shown to HTTP clients (422) and written to
/// the dead-letter topic, so it names the field and says what was expected.
public struct FieldError: Sendable, Equatable, Codable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// A message that cannot become a reading, with every reason found.
public struct ReadingRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [FieldError]

    public init(_ errors: [FieldError]) { self.errors = errors }

    public init(field: String, _ message: String) {
        self.errors = [FieldError(field: field, message: message)]
    }

    public var description: String { errors.map(\.description).joined(separator: "; ") }
}
