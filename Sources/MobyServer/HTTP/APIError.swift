import Foundation
import Hummingbird
import MobyCore

/// The JSON body of every error the HTTP API returns: a message, and field errors for 422.
struct APIError: Error, HTTPResponseError, Encodable {
    var status: HTTPResponse.Status
    var message: String
    var errors: [FieldError]?
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`).
    var headers: HTTPFields = [:]

    enum CodingKeys: String, CodingKey {
        case message = "error"
        case errors
    }

    init(_ status: HTTPResponse.Status, _ message: String, errors: [FieldError]? = nil) {
        self.status = status
        self.message = message
        self.errors = errors
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONEncoder().encode(self)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        var response = Response(
            status: status, headers: fields,
            body: .init(byteBuffer: ByteBuffer(data: data)))
        response.headers[.contentLength] = String(data.count)
        return response
    }
}
