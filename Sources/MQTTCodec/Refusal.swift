/// Why the client refused a PUBLISH whose framing was still intact (too large, unusable topic).
/// Such a publish is not a reason to drop the connection: the broker would redeliver it after
/// every reconnect, forever. It is delivered like any message, marked with this refusal, so the
/// application can dead-letter it and acknowledge it through the usual path.
public struct MQTTRefusal: Sendable, Hashable, CustomStringConvertible {
    /// One thing wrong with the publish.
    public enum Problem: Sendable, Hashable, CustomStringConvertible {
        /// The whole packet (fixed header included) is larger than `MQTTConfiguration.maxPacketSize`;
        /// its payload was discarded as it arrived, except for its first bytes.
        case tooLarge(packetSize: Int, limit: Int)
        /// The topic name is not valid UTF-8, contains U+0000 or a wildcard, or is empty.
        case invalidTopic(String)

        public var description: String {
            switch self {
            case .tooLarge(let size, let limit): "packet of \(size) bytes exceeds the client's limit of \(limit) bytes"
            case .invalidTopic(let reason): reason
            }
        }
    }

    public var problems: [Problem]
    /// The payload's real size in bytes; the message's payload holds only its first
    /// `MQTTPacketDecoder.refusedPayloadPrefix` bytes when the packet was too large.
    public var payloadSize: Int

    public init(problems: [Problem], payloadSize: Int) {
        self.problems = problems
        self.payloadSize = payloadSize
    }

    /// The topic's problem, if it has one.
    public var topicProblem: String? {
        for problem in problems { if case .invalidTopic(let reason) = problem { return reason } }
        return nil
    }

    /// Every problem, human-readable.
    public var description: String { problems.map(\.description).joined(separator: "; ") }
}
