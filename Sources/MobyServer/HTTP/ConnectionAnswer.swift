import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1

/// An error answer the connection gives by itself, below the router (the request never got that
/// far): a status and the API's usual `{"error": "…"}` body, sent as raw HTTP/1.1 bytes with
/// `Connection: close`.
struct ConnectionAnswer: Equatable, Sendable {
    var status: HTTPResponse.Status
    var message: String

    static func requestTimeout(_ limit: Duration) -> Self {
        Self(status: .requestTimeout, message: "request not received completely within \(Self.text(limit))")
    }

    static func requestLineTooLong(limit: Int) -> Self {
        Self(status: .uriTooLong, message: "request line longer than \(limit) bytes")
    }

    static func headersTooLarge(limit: Int) -> Self {
        Self(status: .requestHeaderFieldsTooLarge, message: "request headers larger than \(limit) bytes")
    }

    static func tooManyConnections(limit: Int) -> Self {
        Self(status: .serviceUnavailable, message: "too many connections (limit \(limit)); retry later")
    }

    static func tooManyConnectionsFromAddress(limit: Int) -> Self {
        Self(
            status: .serviceUnavailable,
            message: "too many connections from your address (limit \(limit)); close some or retry later")
    }

    /// The answer to a request the HTTP parser refused.
    static func malformed(_ error: HTTPParserError, limits: HTTPLimits) -> Self {
        switch error {
        case .headerOverflow:
            // The request line is limited before the parser sees it (`HTTPConnectionState`), so an
            // overflow here is the header section (its size or its number of fields).
            return .headersTooLarge(limit: limits.maxHeaderBytes)
        case .invalidContentLength, .unexpectedContentLength:
            return Self(status: .badRequest, message: "invalid Content-Length")
        case .invalidChunkSize:
            return Self(status: .badRequest, message: "invalid chunked body")
        case .invalidMethod:
            return Self(status: .badRequest, message: "malformed request line: invalid method")
        case .invalidURL:
            return Self(status: .badRequest, message: "malformed request line: invalid URL")
        case .invalidVersion:
            return Self(status: .badRequest, message: "malformed request line: invalid HTTP version")
        case .invalidHeaderToken:
            return Self(status: .badRequest, message: "malformed header")
        default:
            return Self(status: .badRequest, message: "malformed request")
        }
    }

    /// The whole response: status line, headers, JSON body.
    func encoded() -> ByteBuffer {
        let body = (try? JSONEncoder().encode(APIError(status, message))) ?? Data(#"{"error":"bad request"}"#.utf8)
        var buffer = ByteBuffer()
        buffer.writeString(
            "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
                + "Content-Type: application/json; charset=utf-8\r\n"
                + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n")
        buffer.writeBytes(body)
        return buffer
    }

    /// `30 s`, or `500 ms` below a second.
    private static func text(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if seconds >= 1 { return "\(seconds) s" }
        return "\(attoseconds / 1_000_000_000_000_000) ms"
    }
}
