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

/// The problems found in one message, as they are found. A hostile payload can hold thousands
/// (64 KiB of unknown keys), and each would be explained in the answer, the log and the dead
/// letter: the first `limit` are kept, each field name cut to `maxFieldScalars`, and the rest
/// only counted.
public struct FieldErrorList: Sendable {
    public static let limit = 20
    public static let maxFieldScalars = 100

    public private(set) var kept: [FieldError] = []
    /// Problems found beyond `limit`.
    public private(set) var unlisted = 0

    public init() {}

    public var isEmpty: Bool { kept.isEmpty }

    /// Keeps `error`, or only counts it (without making its message) once `limit` are kept.
    public mutating func append(_ error: @autoclosure () -> FieldError) {
        guard kept.count < Self.limit else {
            unlisted += 1
            return
        }
        var error = error()
        if error.field.unicodeScalars.count > Self.maxFieldScalars {
            error.field =
                String(String.UnicodeScalarView(error.field.unicodeScalars.prefix(Self.maxFieldScalars))) + "…"
        }
        kept.append(error)
    }

    public func contains(where matches: (FieldError) -> Bool) -> Bool { kept.contains(where: matches) }

    /// The kept problems, and one more that says how many were left out.
    public var errors: [FieldError] {
        guard unlisted > 0 else { return kept }
        return kept + [Self.unlistedEntry(unlisted)]
    }

    /// The entry that stands for `count` problems not listed.
    public static func unlistedEntry(_ count: Int) -> FieldError {
        FieldError(field: "payload", message: "\(count) more problems not listed")
    }

    /// The problems `errors` explains or counts: each entry, an `unlistedEntry` for its count.
    public static func problemCount(_ errors: [FieldError]) -> Int {
        errors.reduce(0) { count, error in
            guard error.field == "payload", error.message.hasSuffix(" more problems not listed"),
                let unlisted = Int(error.message.prefix { $0 != " " })
            else { return count + 1 }
            return count + unlisted
        }
    }
}

/// A message that cannot become a reading, with every reason found (at most
/// `FieldErrorList.limit` of them listed).
public struct ReadingRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [FieldError]

    public init(_ errors: [FieldError]) {
        var list = FieldErrorList()
        for error in errors { list.append(error) }
        self.errors = list.errors
    }

    public init(_ list: FieldErrorList) { self.errors = list.errors }

    public init(field: String, _ message: String) {
        self.errors = [FieldError(field: field, message: message)]
    }

    public var description: String { errors.map(\.description).joined(separator: "; ") }
}
