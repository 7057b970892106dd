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

    /// The most payload bytes a dead letter carries. Escaped or base64-encoded it grows up to six
    /// times, and the dead letter must stay well inside the MQTT client's 1 MiB packet limit (a
    /// dead letter too large to publish would leave its message unacknowledged forever).
    static let maxPayloadBytes = 64 * 1024

    init(topic: String, errors: [FieldError], payload: [UInt8], payloadSize: Int? = nil, receivedAt: Int64) {
        self.topic = topic
        self.payloadSize = payloadSize ?? payload.count
        var payload = payload
        if payload.count > Self.maxPayloadBytes {
            payload.removeLast(payload.count - Self.maxPayloadBytes)
            // Do not end inside a UTF-8 sequence: text stays text.
            var lead = payload.count - 1
            while lead > payload.count - 4, lead > 0, payload[lead] & 0xC0 == 0x80 { lead -= 1 }
            if payload[lead] >= 0xC0 {
                let length = payload[lead] >= 0xF0 ? 4 : payload[lead] >= 0xE0 ? 3 : 2
                if payload.count - lead < length { payload.removeLast(payload.count - lead) }
            }
        }
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
