import HummingbirdBcrypt
import NIOCore
import NIOPosix

/// bcrypt for account passwords, on threads of its own: one hash costs about a quarter of a
/// second of CPU, which must never block Swift's shared threads, the event loops, or the shared
/// thread pool the spool's disk I/O runs on (a wave of logins would delay fsyncs).
enum PasswordHash {
    /// bcrypt's work factor: 2^12 rounds.
    static let cost: UInt8 = 12
    /// bcrypt reads at most 72 bytes; a longer password would be silently cut, so it is refused.
    static let maxBytes = 72
    static let minBytes = 8
    /// Password checks admitted at once (`LoginLimit`): a few per thread, so a wave of logins
    /// waits at most about a second for a thread, and beyond is told to come back.
    static let maxChecksAtOnce = max(4, 2 * threads)

    private static let threads = max(1, System.coreCount / 2)
    /// Started on first use and kept for the life of the process.
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        return pool
    }()

    static func make(_ password: String, cost: UInt8 = cost) async throws -> String {
        try await pool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` is the one `hash` was made from. A password no account can have (too
    /// long, or with a NUL, where bcrypt would see its end) is checked against the stand-in all
    /// the same, so how long the answer takes tells nothing about the account.
    static func verify(_ password: String, hash: String) async throws -> Bool {
        guard password.utf8.count <= maxBytes, !password.utf8.contains(0) else {
            try await spendVerifyTime(password)
            return false
        }
        return try await pool.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// Takes as long as `verify` does, for a name that has no account.
    static func spendVerifyTime(_ password: String) async throws {
        _ = try await pool.runIfActive { Bcrypt.verify(password, hash: standIn) }
    }

    /// A bcrypt hash of no one's password at the same cost as real ones (made on first use).
    private static let standIn = Bcrypt.hash(Secret.session(), cost: cost)

    /// Why `password` cannot be used, or nil.
    static func problem(_ password: String) -> String? {
        let length = password.utf8.count
        if length < minBytes { return "at least \(minBytes) characters" }
        if length > maxBytes { return "at most \(maxBytes) bytes (bcrypt ignores the rest)" }
        if password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "must not contain control characters (bcrypt would end the password at a NUL)"
        }
        return nil
    }
}
