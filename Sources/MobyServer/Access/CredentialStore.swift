import Foundation
import GRDB
import MobyCore

/// A user account as listed (never with its password hash).
public struct Account: Sendable, Equatable {
    public var name: String
    public var role: Role
    /// Unix nanoseconds.
    public var createdAt: Int64
}

/// An API token as listed (never with its secret).
public struct TokenRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var role: Role
    public var device: String?
    public var createdAt: Int64
    public var lastUsedAt: Int64?
}

/// Why a credential could not be created.
public struct CredentialError: Error, CustomStringConvertible, Equatable {
    public var field: String
    public var message: String
    /// The name is taken (HTTP 409), rather than invalid (422).
    public var isConflict = false
    public var description: String { "\(field): \(message)" }
}

/// Users, API tokens and login sessions in the server's SQLite database (beside the alerts),
/// so that `moby-server users …` / `tokens …` work on the data folder of a running or stopped
/// server and a running server sees the change at the next request. Passwords are stored as
/// bcrypt hashes, tokens and session cookies as SHA-256 digests.
public final class CredentialStore: Sendable {
    let pool: DatabasePool
    /// A token's last use is written at most this often (not on every request).
    private let lastUseResolution: Int64 = 60 * 1_000_000_000

    init(pool: DatabasePool) { self.pool = pool }

    /// Opens (and migrates) the database of a data folder; for the command line.
    public convenience init(dataDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let store = try SQLiteAlertStore(path: dataDirectory + "/alerts.sqlite")
        self.init(pool: store.pool)
    }

    // MARK: users

    /// Names of users and tokens: what an alert's history shows as its actor. Letters and digits
    /// of any script (operators write their names in Korean), and `.`, `-`, `_`, `@`; never
    /// spaces or control characters.
    static func nameProblem(_ name: String) -> String? {
        guard (1...64).contains(name.count), name.utf8.count <= 256 else { return "must be 1 to 64 characters" }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
                || "._-@".unicodeScalars.contains(scalar)
        }
        return allowed ? nil : "may hold only letters, digits, '.', '-', '_' and '@'"
    }

    /// A token's name is a description ("press 7", "prometheus"): any printable text, no control
    /// characters, no blanks around it.
    static func tokenNameProblem(_ name: String) -> String? {
        guard (1...64).contains(name.count), name.utf8.count <= 256 else { return "must be 1 to 64 characters" }
        if name.unicodeScalars.contains(where: {
            $0.properties.generalCategory == .control || $0.properties.generalCategory == .format
        }) {
            return "must not contain control or invisible formatting characters"
        }
        if name.first?.isWhitespace == true || name.last?.isWhitespace == true {
            return "must not start or end with a blank"
        }
        return nil
    }

    /// Adds a user, or replaces the role and password of an existing one (`replace`).
    /// Returns whether the user is new.
    @discardableResult
    public func addUser(name: String, role: Role, password: String, replace: Bool = false) async throws -> Bool {
        if let problem = Self.nameProblem(name) { throw CredentialError(field: "name", message: problem) }
        if role == .device {
            throw CredentialError(
                field: "role", message: "devices use tokens, not accounts (moby-server tokens create)")
        }
        if let problem = PasswordHash.problem(password) { throw CredentialError(field: "password", message: problem) }
        let hash = try await PasswordHash.make(password)
        let now = WallClock.nanoseconds()
        return try await pool.write { db in
            let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM account WHERE name = ?", arguments: [name]) ?? false
            if exists && !replace {
                throw CredentialError(field: "name", message: "a user '\(name)' exists already", isConflict: true)
            }
            try db.execute(
                sql: """
                    INSERT INTO account (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash
                    """, arguments: [name, role.rawValue, hash, now])
            // A new password ends the user's sessions.
            try db.execute(sql: "DELETE FROM login_session WHERE account = ?", arguments: [name])
            return !exists
        }
    }

    public func users() async throws -> [Account] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, role, created_at FROM account ORDER BY name").compactMap { row in
                Role(rawValue: row["role"]).map { Account(name: row["name"], role: $0, createdAt: row["created_at"]) }
            }
        }
    }

    /// Removes a user and ends their sessions; false when there was no such user.
    public func removeUser(_ name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM login_session WHERE account = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM account WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    /// The user named `name` when `password` is theirs. The time taken does not tell whether
    /// the user exists (an unknown name is checked against a stand-in hash).
    func verify(name: String, password: String) async throws -> Principal? {
        let stored = try await pool.read { db -> (role: String, hash: String)? in
            try Row.fetchOne(db, sql: "SELECT role, password_hash FROM account WHERE name = ?", arguments: [name])
                .map { ($0["role"], $0["password_hash"]) }
        }
        guard let stored, let role = Role(rawValue: stored.role) else {
            try await PasswordHash.spendVerifyTime(password)
            return nil
        }
        guard try await PasswordHash.verify(password, hash: stored.hash) else { return nil }
        return Principal(name: name, role: role, device: nil, credential: .session)
    }

    // MARK: tokens

    /// Creates a token; the secret is returned once and never stored.
    public func createToken(role: Role, device: String?, name: String?) async throws -> (TokenRecord, String) {
        let id = Secret.identifier()
        switch (role, device) {
        case (.device, nil):
            throw CredentialError(field: "device", message: "a device token needs the device it publishes for")
        case (.device, let device?):
            if let problem = DeviceID.problem(device) { throw CredentialError(field: "device", message: problem) }
        case (_, .some):
            throw CredentialError(field: "device", message: "only device tokens are tied to a device")
        case (_, nil): break
        }
        let name = name ?? (device.map { "device-\($0)" } ?? "token-\(id)")
        if let problem = Self.tokenNameProblem(name) { throw CredentialError(field: "name", message: problem) }
        let secret = Secret.token()
        let record = TokenRecord(
            id: id, name: name, role: role, device: device, createdAt: WallClock.nanoseconds(), lastUsedAt: nil)
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO api_token (id, name, role, device, secret_digest, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, name, role.rawValue, device, Secret.digest(secret), record.createdAt])
        }
        return (record, secret)
    }

    public func tokens() async throws -> [TokenRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, name, role, device, created_at, last_used_at FROM api_token ORDER BY created_at"
            ).compactMap(Self.tokenRecord)
        }
    }

    /// Revokes a token by id; false when there was none.
    public func revokeToken(_ id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM api_token WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    /// Who holds the token `secret`, or nil.
    func principal(token secret: String) async throws -> Principal? {
        guard secret.hasPrefix(Secret.tokenPrefix), secret.utf8.count < 256 else { return nil }
        let digest = Secret.digest(secret)
        let found = try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT id, name, role, device, created_at, last_used_at FROM api_token WHERE secret_digest = ?",
                arguments: [digest]
            ).flatMap(Self.tokenRecord)
        }
        guard let record = found else { return nil }
        let now = WallClock.nanoseconds()
        if now - (record.lastUsedAt ?? 0) > lastUseResolution {
            try await pool.write { db in
                try db.execute(sql: "UPDATE api_token SET last_used_at = ? WHERE id = ?", arguments: [now, record.id])
            }
        }
        return Principal(name: record.name, role: record.role, device: record.device, credential: .token(id: record.id))
    }

    private static func tokenRecord(_ row: Row) -> TokenRecord? {
        guard let role = Role(rawValue: row["role"]) else { return nil }
        return TokenRecord(
            id: row["id"], name: row["name"], role: role, device: row["device"], createdAt: row["created_at"],
            lastUsedAt: row["last_used_at"])
    }

    // MARK: sessions

    /// Starts a session for a verified user; returns the cookie value (never stored).
    func startSession(for principal: Principal, lifetime: Duration) async throws -> (secret: String, expiresAt: Int64) {
        let secret = Secret.session()
        let now = WallClock.nanoseconds()
        let expires = now + Int64(lifetime.components.seconds) * 1_000_000_000
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM login_session WHERE expires_at <= ?", arguments: [now])
            try db.execute(
                sql: "INSERT INTO login_session (secret_digest, account, created_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [Secret.digest(secret), principal.name, now, expires])
        }
        return (secret, expires)
    }

    /// The user of a live session, with its expiry.
    func principal(session secret: String) async throws -> (Principal, expiresAt: Int64)? {
        guard secret.utf8.count < 256 else { return nil }
        let digest = Secret.digest(secret)
        let found = try await pool.read { db -> (name: String, role: String, expiresAt: Int64)? in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT account.name, account.role, login_session.expires_at FROM login_session
                    JOIN account ON account.name = login_session.account
                    WHERE login_session.secret_digest = ? AND login_session.expires_at > ?
                    """, arguments: [digest, WallClock.nanoseconds()]
            ).map { ($0["name"], $0["role"], $0["expires_at"]) }
        }
        guard let found, let role = Role(rawValue: found.role) else { return nil }
        return (Principal(name: found.name, role: role, device: nil, credential: .session), found.expiresAt)
    }

    func endSession(_ secret: String) async throws {
        let digest = Secret.digest(secret)
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM login_session WHERE secret_digest = ?", arguments: [digest])
        }
    }

    /// Whether any user or token exists (a server without any cannot be used; it says so).
    func isEmpty() async throws -> Bool {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM account) + (SELECT count(*) FROM api_token)") == 0
        }
    }
}
