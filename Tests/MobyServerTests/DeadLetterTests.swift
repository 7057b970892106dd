import Foundation
import MobyCore
import MobyTestSupport
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

    @Test func aPayloadOfThousandsOfUnknownKeysMakesAPublishableLetter() throws {
        // 64 KiB of distinct unknown keys: each would be explained with the list of known fields
        // (about 3.5 MB in all, past the 1 MiB packet limit).
        var keys: [String] = []
        var size = 2
        while size < 60 * 1024 {
            let key = #""\#(String(keys.count, radix: 26))":0"#
            keys.append(key)
            size += key.utf8.count + 1
        }
        let payload = Array(("{" + keys.joined(separator: ",") + "}").utf8)
        let decoder = ReadingDecoder(catalog: try SensorCatalog.load(path: TestPaths.catalog))
        guard case .failure(let rejection) = decoder.decode(payload, topicDeviceID: "x", receivedAt: 0) else {
            Issue.record("unknown keys were accepted")
            return
        }
        #expect(rejection.errors.count == FieldErrorList.limit + 1)
        #expect(rejection.errors.last?.message == "\(keys.count - FieldErrorList.limit) more problems not listed")
        let letter = DeadLetter(
            topic: "factory/sensor/data/x", errors: rejection.errors, payload: payload, receivedAt: 0)
        #expect(letter.encoded().count < DeadLetter.maxEncodedBytes)
        #expect(letter.payload == String(decoding: payload, as: UTF8.self), "the payload is kept whole")
        // Shortened, it still counts every problem: five listed, the rest in one entry.
        let short = letter.shortened()
        #expect(short.errors.count == 6)
        #expect(short.errors.last?.message == "\(keys.count - 5) more problems not listed")
    }

    @Test func longFieldNamesAreCut() {
        var list = FieldErrorList()
        list.append(FieldError(field: String(repeating: "é", count: 5_000), message: "unknown field"))
        #expect(list.errors.first?.field == String(repeating: "é", count: FieldErrorList.maxFieldScalars) + "…")
    }

    @Test func aLetterThatWouldBeTooLargeIsShortened() throws {
        // A topic of 60,000 control characters, quoted by two reasons: each escapes to 6 bytes.
        let topic = "factory/sensor/data/" + String(repeating: "\u{1}", count: 60_000)
        let errors = (0..<8).map { FieldError(field: "topic", message: "'\(topic)' is not usable \($0)") }
        let payload = [UInt8](repeating: 0xFF, count: 64 * 1024)
        let letter = DeadLetter(topic: topic, errors: errors, payload: payload, receivedAt: 0)
        let encoded = letter.encoded()
        #expect(encoded.count < 64 * 1024, "\(encoded.count) bytes")
        let sent = try JSONDecoder().decode(DeadLetter.self, from: Data(encoded))
        #expect(sent.errors.count == 6 && sent.errors.last?.message == "3 more problems not listed")
        #expect(sent.topic.hasPrefix("factory/sensor/data/") && sent.topic.hasSuffix("…"))
        #expect(sent.payloadTruncated == true && sent.payloadSize == payload.count)
        let bytes = try #require(Data(base64Encoded: sent.payload), "the cut base64 still decodes")
        #expect(bytes.count == 3_072 && bytes.allSatisfy { $0 == 0xFF })
    }

    @Test func smallPayloadsAreKeptWhole() {
        let payload = Array(#"{"device_id":"a","temperature":"hot"}"#.utf8)
        let letter = DeadLetter(topic: "t", errors: [], payload: payload, receivedAt: 0)
        #expect(letter.payload == String(decoding: payload, as: UTF8.self))
        #expect(letter.payloadTruncated == nil && letter.payloadSize == payload.count)
    }
}
