import MQTT
import Spool

/// The agent's on-disk outbox: every reading is appended here first (fsynced in small groups)
/// and removed only when the broker acknowledged it, so readings survive a broker outage and an
/// agent restart, and go out oldest first. Bounded: when full, new readings are refused and
/// counted rather than growing the disk without limit. Its disk I/O runs on `DiskThreads`.
public struct Outbox: Sendable {
    /// One message waiting to be published.
    public struct Message: Sendable, Equatable {
        public var topic: String
        public var payload: [UInt8]

        public init(topic: String, payload: [UInt8]) {
            self.topic = topic
            self.payload = payload
        }
    }

    /// Messages read from the outbox, to be removed once all are acknowledged.
    public struct Batch: Sendable {
        /// Ready to publish; payloads are slices of the record read from disk (no copies).
        public var outgoing: [MQTTOutgoingMessage]
        fileprivate var record: Spool.Record

        /// The messages as they were appended.
        public var messages: [Message] {
            outgoing.map { Message(topic: $0.topic, payload: Array(buffer: $0.payload)) }
        }
    }

    public let spool: Spool

    public init(directory: String, maxBytes: Int64) throws {
        spool = try Spool(directory: directory, maxBytes: maxBytes)
    }

    public var depth: Spool.Depth { spool.depth }

    /// Appends `messages` as one durable record.
    public func append(_ messages: [Message]) async throws(SpoolError) {
        guard !messages.isEmpty else { return }
        var body = ByteBuffer()
        for message in messages {
            body.writeInteger(UInt16(message.topic.utf8.count))
            body.writeString(message.topic)
            body.writeInteger(UInt32(message.payload.count))
            body.writeBytes(message.payload)
        }
        let (spool, record, count) = (spool, body, messages.count)
        try await DiskThreads.run { () throws(SpoolError) in try spool.append(record, lines: count) }
    }

    /// The oldest messages (whole records, up to about `maxMessages`), or nil when empty.
    public func next(maxMessages: Int) async throws -> Batch? {
        let spool = spool
        guard let record = try await DiskThreads.run({ () throws(SpoolError) in try spool.peek(maxLines: maxMessages) })
        else { return nil }
        var body = record.body
        var messages: [MQTTOutgoingMessage] = []
        messages.reserveCapacity(record.lines)
        while body.readableBytes > 0 {
            guard let topicLength = body.readInteger(as: UInt16.self),
                let topicBytes = body.readSlice(length: Int(topicLength)),
                let payloadLength = body.readInteger(as: UInt32.self),
                let payload = body.readSlice(length: Int(payloadLength))
            else { throw OutboxError.corrupt }
            messages.append(MQTTOutgoingMessage(topic: String(buffer: topicBytes), payload: payload))
        }
        return Batch(outgoing: messages, record: record)
    }

    /// Forgets `batch` (all of it was acknowledged).
    public func remove(_ batch: Batch) async throws(SpoolError) {
        let spool = spool
        let record = batch.record
        try await DiskThreads.run { () throws(SpoolError) in try spool.remove(record) }
    }
}

public enum OutboxError: Error, CustomStringConvertible {
    case corrupt

    public var description: String { "an outbox record does not hold well-formed messages" }
}
