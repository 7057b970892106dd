import Foundation
import MobyCore

/// What the server publishes to the dead-letter topic for a message it could not store: the
/// original topic and payload, and every reason, so an operator can fix the sender and replay.
/// A payload too large to take holds only its first bytes (`payload_truncated`); `payload_size`
/// is always the original size.
struct DeadLetter: Codable, Sendable {
    var topic: String
    var reason: String
    var errors: [FieldError]
    /// The payload as text when it is UTF-8, otherwise base64 (see `payloadEncoding`).
    var payload: String
    var payloadEncoding: String
    /// The original payload's size in bytes.
    var payloadSize: Int
    /// True when `payload` holds only the first bytes (absent otherwise).
    var payloadTruncated: Bool?
    var receivedAt: String
    /// The line protocol InfluxDB refused (only for lines InfluxDB refused; the topic is empty
    /// and the payload is this line when it was replayed from the spool).
    var line: String?

    enum CodingKeys: String, CodingKey {
        case topic, reason, errors, payload, line
        case payloadEncoding = "payload_encoding"
        case payloadSize = "payload_size"
        case payloadTruncated = "payload_truncated"
        case receivedAt = "received_at"
    }

    init(topic: String, errors: [FieldError], payload: [UInt8], payloadSize: Int? = nil, receivedAt: Int64) {
        self.topic = topic
        self.payloadSize = payloadSize ?? payload.count
        self.payloadTruncated = self.payloadSize > payload.count ? true : nil
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
