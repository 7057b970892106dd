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

    /// A dead letter's encoded size at most; far inside the MQTT client's 1 MiB packet limit.
    static let maxEncodedBytes = 512 * 1024

    /// The JSON published. A letter that would be larger than `maxEncodedBytes` (a payload of
    /// control characters escapes to six times its size, and so does a topic of up to 64 KiB,
    /// which the reasons may quote) is sent shortened (`shortened()`): one too large to publish
    /// would leave its message unacknowledged, redelivered after every reconnect, forever.
    func encoded() -> [UInt8] {
        let bytes = Self.encode(self)
        guard bytes.count > Self.maxEncodedBytes else { return bytes }
        return Self.encode(shortened())
    }

    private static func encode(_ letter: DeadLetter) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(letter))) ?? Array("{\"reason\":\"unencodable\"}".utf8)
    }

    /// The same letter with every text cut short: at most a few tens of KiB however it escapes.
    func shortened() -> DeadLetter {
        func cut(_ text: String, _ scalars: Int) -> String {
            text.unicodeScalars.count <= scalars
                ? text : String(String.UnicodeScalarView(text.unicodeScalars.prefix(scalars))) + "…"
        }
        var letter = self
        letter.topic = cut(topic, 1_024)
        letter.errors = errors.prefix(5).map { FieldError(field: cut($0.field, 100), message: cut($0.message, 512)) }
        // What the five leave out, counting those the rejection had already only counted.
        let unlisted = FieldErrorList.problemCount(errors) - FieldErrorList.problemCount(letter.errors)
        if unlisted > 0 { letter.errors.append(FieldErrorList.unlistedEntry(unlisted)) }
        letter.reason = letter.errors.map(\.description).joined(separator: "; ")
        // The payload's first bytes, as a truncated payload always is (no mark inside it; base64
        // cut at a multiple of 4 stays decodable).
        if payload.unicodeScalars.count > 4_096 {
            letter.payload = String(String.UnicodeScalarView(payload.unicodeScalars.prefix(4_096)))
            letter.payloadTruncated = true
        }
        letter.line = line.map { cut($0, 4_096) }
        return letter
    }
}
