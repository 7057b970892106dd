import Crypto
import Foundation

/// Random secrets (API tokens, session cookies) and the one-way digests stored in their place:
/// the database never holds a usable secret. Secrets carry 256 random bits, so a SHA-256
/// digest is as good as a slow hash for them (and costs microseconds per request, not
/// milliseconds); passwords, chosen by people, get bcrypt instead (`PasswordHash`).
enum Secret {
    /// Prefix of API tokens, so that a leaked one is recognisable (and greppable).
    static let tokenPrefix = "moby_"

    /// A new API token: the prefix and 32 random bytes, base64url.
    static func token() -> String { tokenPrefix + randomBase64URL(bytes: 32) }

    /// A new session cookie value.
    static func session() -> String { randomBase64URL(bytes: 32) }

    /// A short random public id (for listing and revoking tokens).
    static func identifier() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// The stored digest of a secret (hex SHA-256).
    static func digest(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private static func randomBase64URL(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
