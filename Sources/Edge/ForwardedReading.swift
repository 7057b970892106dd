import Foundation
import MobyCore

/// A JSON line from a real device's own program, checked and completed before it enters the
/// outbox: it must be a JSON object with a usable `device_id` (or the agent's `--device`), and it
/// gets the agent's clock as `timestamp` when it has none, so a redelivery stays one point.
/// Values are not judged here; the server validates them against its sensor catalog.
public enum ForwardedReading {
    /// The message to queue for `line`; nil for a blank line.
    public static func prepare(_ line: String, defaultDeviceID: String?, now: Int64) -> Result<
        Outbox.Message, ForwardRejection
    >? {
        let text = line.trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return nil }
        func reject(_ reason: String) -> Result<Outbox.Message, ForwardRejection> {
            .failure(ForwardRejection(line: line, reason: reason))
        }
        guard text.utf8.count <= ReadingDecoder.maxPayloadBytes else {
            return reject("longer than \(ReadingDecoder.maxPayloadBytes) bytes")
        }
        let members: [(String, JSONValue)]
        do {
            guard case .object(let object) = try JSONParser.parse(Array(text.utf8)) else {
                return reject("not a JSON object")
            }
            members = object
        } catch {
            return reject(error.description)
        }
        var additions: [(String, String)] = []
        let deviceID: String
        switch members.first(where: { $0.0 == "device_id" })?.1 {
        case .string(let id)?:
            deviceID = id
        case nil:
            guard let defaultDeviceID else {
                return reject("no device_id (put one in the line or start with --device)")
            }
            deviceID = defaultDeviceID
            additions.append(("device_id", defaultDeviceID))
        case let other?:
            return reject("device_id must be a string, got \(other.typeName)")
        }
        if let problem = ReadingDecoder.deviceIDProblem(deviceID) { return reject("device_id \(problem)") }
        if !members.contains(where: { $0.0 == "timestamp" }) {
            additions.append(("timestamp", RFC3339.format(now)))
        }
        var payload = text
        if !additions.isEmpty {
            let fields = additions.map { "\(quoted($0.0)):\(quoted($0.1))" }.joined(separator: ",")
            let brace = payload.firstIndex(of: "{")!
            payload.insert(contentsOf: fields + (members.isEmpty ? "" : ","), at: payload.index(after: brace))
        }
        return .success(Outbox.Message(topic: ReadingTopic.topic(for: deviceID), payload: Array(payload.utf8)))
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? String(decoding: encoder.encode(text), as: UTF8.self)) ?? "\"\""
    }
}

/// A line the agent will not send, and why.
public struct ForwardRejection: Error, Sendable, CustomStringConvertible {
    public var line: String
    public var reason: String

    public var description: String { "\(reason): \(line.prefix(200))" }
}
