import Hummingbird
import MobyCore
import NIOCore

/// A small JSON object sent as a request body, read with the API's errors: 413 past the size
/// limit, 400 when it is not a JSON object, then 422 naming each field that is missing or of
/// the wrong type (collected by `string`, thrown by `check`).
struct JSONBody {
    private let fields: [String: JSONValue]
    private(set) var errors: [FieldError] = []

    /// Reads the body; `example` shows in the 400 what was expected.
    static func read(_ request: Request, limit: Int = 16 * 1024, example: String) async throws -> JSONBody {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "body larger than \(limit) bytes")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(Array(body.readableBytesView))
        } catch {
            throw APIError(.badRequest, "the body must be JSON like \(example): \(error.description)")
        }
        guard case .object(let members) = document else {
            throw APIError(.badRequest, "the body must be a JSON object like \(example), not \(document.typeName)")
        }
        return JSONBody(fields: Dictionary(members, uniquingKeysWith: { _, last in last }))
    }

    /// The string `key`; a missing required one or a non-string is recorded as a field error.
    mutating func string(_ key: String, required: Bool = true) -> String? {
        switch fields[key] {
        case .string(let value)?: return value
        case nil, .null?:
            if required { errors.append(FieldError(field: key, message: "required")) }
            return nil
        case let value?:
            errors.append(FieldError(field: key, message: "must be a string, not \(value.typeName)"))
            return nil
        }
    }

    /// Records a problem with `field` found by the caller.
    mutating func reject(_ field: String, _ message: String) {
        errors.append(FieldError(field: field, message: message))
    }

    /// 422 with every field error recorded so far.
    func check() throws {
        if !errors.isEmpty { throw APIError(.unprocessableContent, "invalid body", errors: errors) }
    }
}
