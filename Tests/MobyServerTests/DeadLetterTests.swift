import Foundation
import Testing

@testable import MobyServer

/// A dead letter must always be publishable: a payload that escapes or base64-encodes to more
/// than the MQTT client's 1 MiB limit would leave its message unacknowledged (issue 11).
@Suite struct DeadLetterTests {
    @Test(arguments: [
        [UInt8](repeating: 0xFF, count: 800 * 1024),  // binary: base64
        [UInt8](repeating: 0x01, count: 300 * 1024),  // control characters: \u0001 each
        Array(String(repeating: "温", count: 200_000).utf8),  // text, cut on a character boundary
    ])
    func largePayloadsAreCutToAPublishableSize(_ payload: [UInt8]) throws {
        let letter = DeadLetter(
            topic: "factory/sensor/data/x", errors: [.init(field: "payload", message: "too large")], payload: payload,
            receivedAt: 0)
        #expect(letter.encoded().count < 512 * 1024)
        #expect(letter.payloadSize == payload.count)
        #expect(letter.payloadTruncated == true)
        if payload.first == 0xE6 { #expect(letter.payloadEncoding == "utf-8") }
    }

    @Test func smallPayloadsAreKeptWhole() {
        let payload = Array(#"{"device_id":"a","temperature":"hot"}"#.utf8)
        let letter = DeadLetter(topic: "t", errors: [], payload: payload, receivedAt: 0)
        #expect(letter.payload == String(decoding: payload, as: UTF8.self))
        #expect(letter.payloadTruncated == nil && letter.payloadSize == payload.count)
    }
}
