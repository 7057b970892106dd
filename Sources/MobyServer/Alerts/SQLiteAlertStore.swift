import Foundation
import GRDB
import MobyCore

/// The alert store of a single server: SQLite in WAL mode under the data folder, through GRDB.
/// The schema is versioned by GRDB migrations; a partial open alert index enforces at most one
/// open alert per device and rule in the database itself.
final class SQLiteAlertStore: AlertStore {
    /// How many events are kept for reconnecting clients.
    let eventsKept: Int64
    /// The database, shared with the device registry (`DeviceStore`).
    let pool: DatabasePool

    init(path: String, eventsKept: Int64 = 10_000) throws {
        self.eventsKept = eventsKept
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: alerts, history, events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE alert (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        device_id TEXT NOT NULL,
                        rule TEXT NOT NULL,
                        severity TEXT NOT NULL,
                        status TEXT NOT NULL,
                        score REAL NOT NULL,
                        peak_score REAL NOT NULL,
                        contributors TEXT NOT NULL,
                        reading_count INTEGER NOT NULL,
                        raised_at INTEGER NOT NULL,
                        last_seen_at INTEGER NOT NULL,
                        cleared_at INTEGER,
                        acknowledged_at INTEGER,
                        acknowledged_by TEXT,
                        resolved_at INTEGER,
                        resolved_by TEXT,
                        summary TEXT NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE UNIQUE INDEX alert_one_open ON alert(device_id, rule) WHERE status != 'resolved';
                    CREATE INDEX alert_raised_at ON alert(raised_at);
                    CREATE TABLE alert_history (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        alert_id INTEGER NOT NULL REFERENCES alert(id),
                        action TEXT NOT NULL,
                        actor TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        note TEXT,
                        status TEXT NOT NULL
                    );
                    CREATE INDEX alert_history_alert ON alert_history(alert_id);
                    CREATE TABLE alert_event (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        type TEXT NOT NULL,
                        alert_id INTEGER NOT NULL,
                        at INTEGER NOT NULL,
                        message TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2: LLM narrative") { db in
            try db.execute(sql: "ALTER TABLE alert ADD COLUMN narrative TEXT")
        }
        migrator.registerMigration("v3: device registry, alert profile") { db in
            try db.execute(
                sql: """
                    ALTER TABLE alert ADD COLUMN profile TEXT NOT NULL DEFAULT 'default';
                    CREATE TABLE device (
                        id TEXT PRIMARY KEY,
                        name TEXT,
                        location TEXT,
                        line TEXT,
                        profile TEXT NOT NULL,
                        labels TEXT NOT NULL,
                        first_seen INTEGER NOT NULL,
                        last_seen INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v4: users, API tokens, login sessions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE account (
                        name TEXT PRIMARY KEY,
                        role TEXT NOT NULL,
                        password_hash TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE api_token (
                        id TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL,
                        device TEXT,
                        secret_digest TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL,
                        last_used_at INTEGER
                    );
                    CREATE TABLE login_session (
                        secret_digest TEXT PRIMARY KEY,
                        account TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL
                    );
                    CREATE INDEX login_session_account ON login_session(account);
                    """)
        }
        return migrator
    }

    func openAlerts() async throws -> [Alert] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alert WHERE status != 'resolved' ORDER BY id").map(Self.alert)
        }
    }

    func commit(_ alert: Alert, history: AlertHistoryEntry?, event: AlertEventType?) async throws -> (
        Alert, AlertEvent?
    ) {
        let kept = eventsKept
        return try await pool.write { db in
            var alert = alert
            let contributors = String(decoding: try JSONEncoder().encode(alert.contributors), as: UTF8.self)
            let columns: [any DatabaseValueConvertible & Sendable] = [
                alert.deviceID, alert.rule, alert.severity.rawValue, alert.status.rawValue, alert.score,
                alert.peakScore, contributors, alert.readingCount, alert.raisedAt, alert.lastSeenAt,
            ]
            let optional: [(any DatabaseValueConvertible & Sendable)?] = [
                alert.clearedAt, alert.acknowledgedAt, alert.acknowledgedBy, alert.resolvedAt, alert.resolvedBy,
            ]
            let arguments = StatementArguments(
                columns + optional + [alert.summary, alert.updatedAt, alert.narrative, alert.profile])
            if alert.id == 0 {
                try db.execute(
                    sql: """
                        INSERT INTO alert (device_id, rule, severity, status, score, peak_score, contributors,
                            reading_count, raised_at, last_seen_at, cleared_at, acknowledged_at, acknowledged_by,
                            resolved_at, resolved_by, summary, updated_at, narrative, profile)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: arguments)
                alert.id = db.lastInsertedRowID
            } else {
                try db.execute(
                    sql: """
                        UPDATE alert SET device_id = ?, rule = ?, severity = ?, status = ?, score = ?, peak_score = ?,
                            contributors = ?, reading_count = ?, raised_at = ?, last_seen_at = ?, cleared_at = ?,
                            acknowledged_at = ?, acknowledged_by = ?, resolved_at = ?, resolved_by = ?, summary = ?,
                            updated_at = ?, narrative = ?, profile = ?
                        WHERE id = ?
                        """, arguments: arguments + [alert.id])
            }
            if let history {
                try db.execute(
                    sql:
                        "INSERT INTO alert_history (alert_id, action, actor, at, note, status) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [
                        alert.id, history.action, history.actor, history.at, history.note, history.status.rawValue,
                    ])
            }
            guard let event else { return (alert, nil) }
            try db.execute(
                sql: "INSERT INTO alert_event (type, alert_id, at, message) VALUES (?, ?, ?, '')",
                arguments: [event.rawValue, alert.id, alert.updatedAt])
            let sequence = db.lastInsertedRowID
            let message = StreamMessage(
                type: event.rawValue, seq: sequence, at: RFC3339.format(alert.updatedAt), alert: AlertDocument(alert)
            ).encoded()
            try db.execute(sql: "UPDATE alert_event SET message = ? WHERE seq = ?", arguments: [message, sequence])
            if sequence % 100 == 0 {
                try db.execute(sql: "DELETE FROM alert_event WHERE seq <= ?", arguments: [sequence - kept])
            }
            return (
                alert,
                AlertEvent(sequence: sequence, type: event, alertID: alert.id, at: alert.updatedAt, message: message)
            )
        }
    }

    func alerts(_ query: AlertQuery) async throws -> AlertPage {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if !query.statuses.isEmpty {
            clauses.append("status IN (\(query.statuses.map { _ in "?" }.joined(separator: ", ")))")
            arguments += StatementArguments(query.statuses.map(\.rawValue))
        }
        if !query.severities.isEmpty {
            clauses.append("severity IN (\(query.severities.map { _ in "?" }.joined(separator: ", ")))")
            arguments += StatementArguments(query.severities.map(\.rawValue))
        }
        if let device = query.deviceID {
            clauses.append("device_id = ?")
            arguments += [device]
        }
        if let from = query.from {
            clauses.append("raised_at >= ?")
            arguments += [from]
        }
        if let to = query.to {
            clauses.append("raised_at < ?")
            arguments += [to]
        }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let filterArguments = arguments
        return try await pool.read { db in
            let total =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM alert \(filter)", arguments: filterArguments) ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM alert \(filter) ORDER BY raised_at DESC, id DESC LIMIT ? OFFSET ?",
                arguments: filterArguments + [query.limit, query.offset])
            return AlertPage(alerts: try rows.map(Self.alert), total: total)
        }
    }

    func alert(id: Int64) async throws -> Alert? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM alert WHERE id = ?", arguments: [id]).map(Self.alert)
        }
    }

    func history(alertID: Int64, latest: Int) async throws -> (entries: [AlertHistoryEntry], total: Int) {
        try await pool.read { db in
            let total =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM alert_history WHERE alert_id = ?", arguments: [alertID])
                ?? 0
            let entries = try Row.fetchAll(
                db, sql: "SELECT * FROM alert_history WHERE alert_id = ? ORDER BY id DESC LIMIT ?",
                arguments: [alertID, max(latest, 0)]
            )
            .reversed()
            .map { row in
                AlertHistoryEntry(
                    action: row["action"], actor: row["actor"], at: row["at"], note: row["note"],
                    status: AlertStatus(rawValue: row["status"]) ?? .pending)
            }
            return (entries, total)
        }
    }

    func events(after sequence: Int64, limit: Int) async throws -> [AlertEvent]? {
        try await pool.read { db in
            let last = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM alert_event") ?? 0
            guard sequence <= last else { return nil }
            if sequence == last { return [] }
            let first = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM alert_event") ?? 0
            guard first <= sequence + 1, last - sequence <= Int64(limit) else { return nil }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM alert_event WHERE seq > ? ORDER BY seq", arguments: [sequence]
            ).map { row in
                AlertEvent(
                    sequence: row["seq"], type: AlertEventType(rawValue: row["type"]) ?? .updated,
                    alertID: row["alert_id"], at: row["at"], message: row["message"])
            }
        }
    }

    func snapshot() async throws -> (alerts: [Alert], sequence: Int64) {
        try await pool.read { db in
            let alerts = try Row.fetchAll(db, sql: "SELECT * FROM alert WHERE status != 'resolved' ORDER BY id")
                .map(Self.alert)
            let sequence = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM alert_event") ?? 0
            return (alerts, sequence)
        }
    }

    private static func alert(_ row: Row) throws -> Alert {
        let contributors = try JSONDecoder().decode(
            [Contributor].self, from: Data((row["contributors"] as String).utf8))
        var alert = Alert(
            id: row["id"], deviceID: row["device_id"], rule: row["rule"],
            severity: Severity(rawValue: row["severity"]) ?? .warning,
            status: AlertStatus(rawValue: row["status"]) ?? .pending, score: row["score"], peakScore: row["peak_score"],
            contributors: contributors, readingCount: row["reading_count"], raisedAt: row["raised_at"],
            lastSeenAt: row["last_seen_at"], clearedAt: row["cleared_at"], acknowledgedAt: row["acknowledged_at"],
            acknowledgedBy: row["acknowledged_by"], resolvedAt: row["resolved_at"], resolvedBy: row["resolved_by"],
            summary: row["summary"], narrative: row["narrative"], updatedAt: row["updated_at"])
        alert.profile = row["profile"]
        return alert
    }
}
