import HummingbirdBcrypt
import NIOPosix

/// bcrypt for account passwords, run on NIO's thread pool: one hash costs about a quarter of a
/// second of CPU, which must never block Swift's shared threads (or the event loops).
enum PasswordHash {
    /// bcrypt's work factor: 2^12 rounds.
    static let cost: UInt8 = 12
    /// bcrypt reads at most 72 bytes; a longer password would be silently cut, so it is refused.
    static let maxBytes = 72
    static let minBytes = 8

    static func make(_ password: String, cost: UInt8 = cost) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// Takes as long as `verify` does, for a name that has no account.
    static func spendVerifyTime(_ password: String) async throws {
        _ = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: standIn) }
    }

    /// A bcrypt hash of no one's password at the same cost as real ones (made on first use).
    private static let standIn = Bcrypt.hash(Secret.session(), cost: cost)

    /// Why `password` cannot be used, or nil.
    static func problem(_ password: String) -> String? {
        let length = password.utf8.count
        if length < minBytes { return "at least \(minBytes) characters" }
        if length > maxBytes { return "at most \(maxBytes) bytes (bcrypt ignores the rest)" }
        return nil
    }
}
