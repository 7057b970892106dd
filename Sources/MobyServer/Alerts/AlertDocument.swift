import Foundation
import MobyCore

/// An alert as the API and the WebSocket show it: snake_case keys, RFC 3339 times.
struct AlertDocument: Codable, Sendable, Equatable {
    var id: Int64
    var deviceID: String
    var rule: String
    var severity: Severity
    var status: AlertStatus
    var score: Double
    var peakScore: Double
    var contributors: [Contributor]
    var readingCount: Int
    var raisedAt: String
    var lastSeenAt: String
    var clearedAt: String?
    var acknowledgedAt: String?
    var acknowledgedBy: String?
    var resolvedAt: String?
    var resolvedBy: String?
    var summary: String
    var narrative: String?
    /// The device profile whose limits judged the episode.
    var profile: String
    var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, rule, severity, status, score, contributors, summary, narrative, profile
        case deviceID = "device_id"
        case peakScore = "peak_score"
        case readingCount = "reading_count"
        case raisedAt = "raised_at"
        case lastSeenAt = "last_seen_at"
        case clearedAt = "cleared_at"
        case acknowledgedAt = "acknowledged_at"
        case acknowledgedBy = "acknowledged_by"
        case resolvedAt = "resolved_at"
        case resolvedBy = "resolved_by"
        case updatedAt = "updated_at"
    }

    init(_ alert: Alert) {
        id = alert.id
        deviceID = alert.deviceID
        rule = alert.rule
        severity = alert.severity
        status = alert.status
        score = alert.score
        peakScore = alert.peakScore
        contributors = alert.contributors
        readingCount = alert.readingCount
        raisedAt = RFC3339.format(alert.raisedAt)
        lastSeenAt = RFC3339.format(alert.lastSeenAt)
        clearedAt = alert.clearedAt.map(RFC3339.format)
        acknowledgedAt = alert.acknowledgedAt.map(RFC3339.format)
        acknowledgedBy = alert.acknowledgedBy
        resolvedAt = alert.resolvedAt.map(RFC3339.format)
        resolvedBy = alert.resolvedBy
        summary = alert.summary
        narrative = alert.narrative
        profile = alert.profile
        updatedAt = RFC3339.format(alert.updatedAt)
    }
}

/// A history entry as the API shows it.
struct AlertHistoryDocument: Codable, Sendable, Equatable {
    var action: String
    var actor: String
    var at: String
    var note: String?
    var status: AlertStatus

    init(_ entry: AlertHistoryEntry) {
        action = entry.action
        actor = entry.actor
        at = RFC3339.format(entry.at)
        note = entry.note
        status = entry.status
    }
}

/// The messages of `/ws`: a snapshot, events, heartbeats. Every one carries `seq`, the
/// sequence number of the last event it reflects.
struct StreamMessage: Codable, Sendable {
    var type: String
    var seq: Int64
    var at: String?
    var alert: AlertDocument?
    var alerts: [AlertDocument]?
    /// Why the server sends a snapshot instead of the missed events.
    var reason: String?

    /// Compact JSON text (one WebSocket text frame).
    func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
