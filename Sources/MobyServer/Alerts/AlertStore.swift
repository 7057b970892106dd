import MobyCore

/// Where alerts, their history and the event log live. A small protocol so that a shared
/// PostgreSQL store can serve several server instances later; SQLite serves one.
protocol AlertStore: Sendable {
    /// Every alert that is not resolved.
    func openAlerts() async throws -> [Alert]
    /// Stores `alert` (inserting it when `id` is 0), appends `history` to its history and, when
    /// `event` is set, appends the event to the log, all in one transaction. Returns the stored
    /// alert (with its id) and the logged event (with its sequence number).
    func commit(_ alert: Alert, history: AlertHistoryEntry?, event: AlertEventType?) async throws -> (
        Alert, AlertEvent?
    )
    func alerts(_ query: AlertQuery) async throws -> AlertPage
    func alert(id: Int64) async throws -> Alert?
    /// The alert's latest `latest` history entries, oldest first, and how many it has in all.
    func history(alertID: Int64, latest: Int) async throws -> (entries: [AlertHistoryEntry], total: Int)
    /// Events after `sequence`, oldest first; nil when they are no longer all kept (or the
    /// sequence is from another store), so the client needs a fresh snapshot.
    func events(after sequence: Int64, limit: Int) async throws -> [AlertEvent]?
    /// Open alerts and the last event's sequence, read together (the WebSocket snapshot).
    func snapshot() async throws -> (alerts: [Alert], sequence: Int64)
}

extension AlertStore {
    /// The alert's whole history, oldest first.
    func history(alertID: Int64) async throws -> [AlertHistoryEntry] {
        try await history(alertID: alertID, latest: Int(Int32.max)).entries
    }
}

/// What happened to an alert, as sent on the WebSocket and logged for replay.
enum AlertEventType: String, Sendable, Codable, CaseIterable {
    case raised = "alert.raised"
    case updated = "alert.updated"
    case acknowledged = "alert.acknowledged"
    case resolved = "alert.resolved"
}

/// One entry of the event log: `message` is the exact JSON text sent to WebSocket clients.
struct AlertEvent: Sendable, Equatable {
    var sequence: Int64
    var type: AlertEventType
    var alertID: Int64
    var at: Int64
    var message: String
}

/// One step in an alert's life: who did what, when, with an optional note.
struct AlertHistoryEntry: Sendable, Equatable {
    /// raised, reopened, escalated, cleared, acknowledged, resolved, summarized.
    var action: String
    var actor: String
    var at: Int64
    var note: String?
    var status: AlertStatus
}

/// Filters of `GET /api/v1/alerts`; times are nanoseconds on `raised_at`.
struct AlertQuery: Sendable, Equatable {
    var statuses: [AlertStatus] = []
    var severities: [Severity] = []
    var deviceID: String?
    var from: Int64?
    var to: Int64?
    var limit = 50
    var offset = 0
}

/// One page of alerts, newest first, with the total that matched.
struct AlertPage: Sendable {
    var alerts: [Alert]
    var total: Int
}
