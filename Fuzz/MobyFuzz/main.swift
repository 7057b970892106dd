import Foundation
import MQTTCodec
import MobyCore
import NIOCore

/// libFuzzer targets for the parsers that read what the network sends (`scripts/fuzz`). The
/// environment's MOBY_FUZZ_TARGET picks one. Each checks a property, not only that nothing
/// crashes, and stops the run (`fatalError`, libFuzzer keeps the input) when it does not hold:
///   mqtt     MQTT packet decoder: whatever decodes re-encodes to bytes that decode to the same
///            packet; a refused PUBLISH never keeps more than its prefix.
///   json     JSON parser: parsing is deterministic and never exceeds its depth limit.
///   reading  reading decoder: the fast scanner and the full parser agree on every payload.
///   rfc3339  timestamps: whatever parses formats back to text that parses to the same instant.
enum Fuzz {
    enum Target: String, CaseIterable { case mqtt, json, reading, rfc3339 }

    static let target: Target = {
        let name = ProcessInfo.processInfo.environment["MOBY_FUZZ_TARGET"] ?? ""
        guard let target = Target(rawValue: name) else {
            fatalError("set MOBY_FUZZ_TARGET to one of \(Target.allCases.map(\.rawValue)), not '\(name)'")
        }
        return target
    }()

    static let decoder: ReadingDecoder = {
        let path = ProcessInfo.processInfo.environment["MOBY_CATALOG_FILE"] ?? "config/sensors.json"
        do {
            return ReadingDecoder(catalog: try SensorCatalog.load(path: path))
        } catch {
            fatalError("cannot load the catalog \(path): \(error)")
        }
    }()

    static func mqtt(_ bytes: UnsafeRawBufferPointer) {
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = MQTTPacketDecoder(maxPacketSize: 2_048)
        while true {
            let packet: MQTTPacket?
            do {
                packet = try decoder.decode(&buffer)
            } catch {
                return  // refused framing: the connection would be closed
            }
            guard let packet else { return }
            if case .publish(let publish) = packet, publish.refusal != nil {
                if publish.payload.readableBytes > MQTTPacketDecoder.refusedPayloadPrefix {
                    fatalError("a refused PUBLISH kept \(publish.payload.readableBytes) payload bytes")
                }
                continue
            }
            do {
                var encoded = try packet.encoded()
                var fresh = MQTTPacketDecoder(maxPacketSize: 1 << 20)
                let again = try fresh.decode(&encoded)
                if again != packet || encoded.readableBytes != 0 {
                    fatalError("round trip changed \(packet) into \(String(describing: again))")
                }
            } catch {
                fatalError("\(packet) decoded but does not re-encode and decode: \(error)")
            }
        }
    }

    static func json(_ bytes: UnsafeRawBufferPointer) {
        let input = bytes.bindMemory(to: UInt8.self)
        let first = Result { () throws(JSONSyntaxError) in try JSONParser.parse(input) }
        let second = Result { () throws(JSONSyntaxError) in try JSONParser.parse(input) }
        switch (first, second) {
        case (.success(let a), .success(let b)):
            if a != b { fatalError("two parses of the same bytes differ") }
            if depth(a) > JSONParser.maxDepth { fatalError("parsed deeper than \(JSONParser.maxDepth)") }
        case (.failure(let a), .failure(let b)):
            if a != b { fatalError("two parses fail differently: \(a) / \(b)") }
        default:
            fatalError("two parses of the same bytes disagree")
        }
    }

    static func depth(_ value: JSONValue) -> Int {
        switch value {
        case .array(let items): 1 + (items.map(depth).max() ?? 0)
        case .object(let members): 1 + (members.map { depth($0.1) }.max() ?? 0)
        default: 0
        }
    }

    static func reading(_ bytes: UnsafeRawBufferPointer) {
        let receivedAt: Int64 = 1_764_000_000_000_000_000
        let decoded = decoder.decode(bytes, topicDeviceID: nil, receivedAt: receivedAt)
        let full: Result<Reading, ReadingRejection>
        do {
            let document = try JSONParser.parse(bytes.bindMemory(to: UInt8.self))
            full = decoder.decode(document, topicDeviceID: nil, receivedAt: receivedAt)
        } catch {
            full = .failure(ReadingRejection(field: "payload", error.description))
        }
        switch (decoded, full) {
        case (.success(let a), .success(let b)):
            if a != b { fatalError("the scanner and the parser read different readings: \(a) / \(b)") }
        case (.failure, .failure): break
        case (.success(let a), .failure(let b)):
            fatalError("the decoder took \(a), the full parser refused it: \(b)")
        case (.failure(let a), .success(let b)):
            fatalError("the decoder refused (\(a)) what the full parser takes: \(b)")
        }
    }

    /// MOBY_FUZZ_SELF_TEST=1 plants a wrong property in `rfc3339`, so that a run must fail: the
    /// check that the harness reports what it finds.
    static let selfTest = ProcessInfo.processInfo.environment["MOBY_FUZZ_SELF_TEST"] == "1"

    static func rfc3339(_ bytes: UnsafeRawBufferPointer) {
        guard let text = String(validating: bytes, as: UTF8.self), let instant = RFC3339.parse(text) else { return }
        let formatted = RFC3339.format(instant)
        guard RFC3339.parse(formatted) == instant + (selfTest ? 1 : 0) else {
            fatalError("'\(text)' is \(instant), formatted '\(formatted)', which parses differently")
        }
    }
}

/// libFuzzer's entry point (main.swift holds declarations only: libFuzzer brings its own main).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    switch Fuzz.target {
    case .mqtt: Fuzz.mqtt(bytes)
    case .json: Fuzz.json(bytes)
    case .reading: Fuzz.reading(bytes)
    case .rfc3339: Fuzz.rfc3339(bytes)
    }
    return 0
}
