import Foundation
import MobyCore

/// What the server publishes to the dead-letter topic for a message it could not store: the
/// original topic and payload, and every reason, so an operator can fix the sender and replay.
struct DeadLetter: Codable, Sendable {
    var topic: String
    var reason: String
    var errors: [FieldError]
    /// The payload as text when it is UTF-8, otherwise base64 (see `payloadEncoding`).
    var payload: String
    var payloadEncoding: String
    var receivedAt: String
    /// The line protocol InfluxDB refused (only for lines InfluxDB refused; the topic is empty
    /// and the payload is this line when it was replayed from the spool).
    var line: String?

    enum CodingKeys: String, CodingKey {
        case topic, reason, errors, payload, line
        case payloadEncoding = "payload_encoding"
        case receivedAt = "received_at"
    }

    init(topic: String, errors: [FieldError], payload: [UInt8], receivedAt: Int64) {
        self.topic = topic
        self.errors = errors
        self.reason = errors.map(\.description).joined(separator: "; ")
        if let text = String(validating: payload, as: UTF8.self) {
            self.payload = text
            self.payloadEncoding = "utf-8"
        } else {
            self.payload = Data(payload).base64EncodedString()
            self.payloadEncoding = "base64"
        }
        self.receivedAt = RFC3339.format(receivedAt)
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(self))) ?? Array("{\"reason\":\"unencodable\"}".utf8)
    }
}
