import Foundation
import GRDB
import Logging
import MobyCore
import ServiceLifecycle
import Synchronization

/// The device registry on disk: a row per device (name, location, line, profile, labels, first
/// and last seen) in the server's SQLite database. An operator's change is written before it is
/// answered; registrations and location changes from readings are queued by ingest (which must
/// not wait for disk) and written within `flushInterval`, with every device's last-seen time.
/// A registration lost in a crash is made again by the device's next reading.
final class DeviceStore: Service, Sendable {
    private let pool: DatabasePool
    private let fleet: FleetState
    private let flushInterval: Duration
    private let logger: Logger
    private let queued = Mutex<[String: DeviceMeta]>([:])
    /// Last-seen times as last written, to write only what changed.
    private let written = Mutex<[String: Int64]>([:])

    init(pool: DatabasePool, fleet: FleetState, flushInterval: Duration = .seconds(10), logger: Logger) {
        self.pool = pool
        self.fleet = fleet
        self.flushInterval = flushInterval
        self.logger = logger
    }

    /// A stored row, `Sendable` so that it leaves GRDB's reader (and the read stays async).
    private struct Entry: Sendable {
        var id: String
        var meta: DeviceMeta
        var lastSeen: Int64
    }

    /// Every stored entry, for `FleetState.load` at start.
    func load() async throws -> [(id: String, meta: DeviceMeta, lastSeen: Int64)] {
        let entries = try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM device ORDER BY id").map { row in
                let labels = try? JSONDecoder().decode(
                    [String: String].self, from: Data((row["labels"] as String).utf8))
                return Entry(
                    id: row["id"],
                    meta: DeviceMeta(
                        name: row["name"], location: row["location"], line: row["line"], profile: row["profile"],
                        labels: labels ?? [:], firstSeen: row["first_seen"]),
                    lastSeen: row["last_seen"])
            }
        }.map { (id: $0.id, meta: $0.meta, lastSeen: $0.lastSeen) }
        written.withLock { written in
            for entry in entries { written[entry.id] = entry.lastSeen }
        }
        return entries
    }

    /// Queues entries for the next flush (ingest's path: never waits).
    func save(_ entries: [(id: String, meta: DeviceMeta)]) {
        queued.withLock { queued in
            for entry in entries { queued[entry.id] = entry.meta }
        }
    }

    /// Writes one entry now (an operator's change): answered only once it is on disk.
    func saveNow(_ id: String, _ meta: DeviceMeta, lastSeen: Int64) async throws {
        queued.withLock { _ = $0.removeValue(forKey: id) }
        try await pool.write { db in try Self.upsert(db, id: id, meta: meta, lastSeen: lastSeen) }
    }

    /// Writes the queued entries and the last-seen times that changed, in one transaction.
    func flush() async throws {
        let entries = queued.withLock { queued in
            defer { queued.removeAll() }
            return queued
        }
        let seen = fleet.snapshot().map { (id: $0.id, lastSeen: $0.device.receivedAt) }
        let changed = written.withLock { written in seen.filter { written[$0.id] != $0.lastSeen } }
        guard !entries.isEmpty || !changed.isEmpty else { return }
        let lastSeen = Dictionary(seen.map { ($0.id, $0.lastSeen) }, uniquingKeysWith: { $1 })
        do {
            try await pool.write { db in
                for (id, meta) in entries {
                    try Self.upsert(db, id: id, meta: meta, lastSeen: lastSeen[id] ?? meta.firstSeen)
                }
                for entry in changed where entries[entry.id] == nil {
                    try db.execute(
                        sql: "UPDATE device SET last_seen = ? WHERE id = ?", arguments: [entry.lastSeen, entry.id])
                }
            }
        } catch {
            // Put them back for the next attempt.
            save(entries.map { (id: $0.key, meta: $0.value) })
            throw error
        }
        written.withLock { written in
            for entry in changed { written[entry.id] = entry.lastSeen }
        }
    }

    /// Flushes every `flushInterval` until shutdown, then once more.
    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.flushInterval) }
            await flushLogged()
        }
        await flushLogged()
    }

    private func flushLogged() async {
        do {
            try await flush()
        } catch {
            logger.error("device registry not written; retrying", metadata: ["error": "\(error)"])
        }
    }

    private static func upsert(_ db: Database, id: String, meta: DeviceMeta, lastSeen: Int64) throws {
        let labels = String(decoding: try JSONEncoder().encode(meta.labels), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO device (id, name, location, line, profile, labels, first_seen, last_seen)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, location = excluded.location,
                    line = excluded.line, profile = excluded.profile, labels = excluded.labels,
                    last_seen = MAX(last_seen, excluded.last_seen)
                """,
            arguments: [id, meta.name, meta.location, meta.line, meta.profile, labels, meta.firstSeen, lastSeen])
    }
}
