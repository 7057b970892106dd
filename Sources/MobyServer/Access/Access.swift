import Foundation
import Hummingbird
import HummingbirdAuth
import Logging

/// How the HTTP API is guarded, from the settings: who may come in without credentials, how
/// long sessions last, how fast login attempts and publishes may come.
struct AccessPolicy: Sendable {
    /// nil: authentication is off and everyone acts as `Principal.anonymous`.
    let credentials: CredentialStore?
    /// `/health/ready` and `/metrics` answer without credentials.
    let openMonitoring: Bool
    let sessionLifetime: Duration
    /// Failed logins per client address and name, and per address; password checks at once.
    let logins: LoginLimit
    /// Readings per credential on `POST /publish`.
    let publishes: RateLimit
    /// Session cookies get `Secure` (served over TLS, or behind a TLS proxy).
    let secureCookies: Bool

    static let cookieName = "moby_session"

    /// Paths a request may reach without credentials; everything else of the API needs them.
    func needsCredentials(_ request: Request) -> Bool {
        let path = request.uri.path
        switch path {
        case "/health", "/openapi.json": return false
        case "/api/v1/session": return request.method == .get
        case "/metrics", "/health/ready": return !openMonitoring
        case "/publish", "/ws": return true
        default: return path.hasPrefix("/api/")
        }
    }
}

/// Finds who is asking (an `Authorization: Bearer` API token, else the session cookie) and
/// turns away, with 401, any request for the API that carries neither; routes then demand a
/// permission (`Require`). Default-deny: a new API route is never open by accident.
struct Authentication<Context: AuthRequestContext<Principal>>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        guard let credentials = policy.credentials else {
            context.identity = .anonymous
            return try await next(request, context)
        }
        do {
            if let token = request.headers.bearer?.token {
                context.identity = try await credentials.principal(token: token)
            } else if let cookie = request.cookies[AccessPolicy.cookieName]?.value {
                context.identity = try await credentials.principal(session: cookie).map {
                    var principal = $0.0
                    principal.expiresAt = $0.expiresAt
                    return principal
                }
            }
        } catch {
            throw APIError(.serviceUnavailable, "cannot check credentials: the server's database failed: \(error)")
        }
        if context.identity == nil, policy.needsCredentials(request) {
            let presented = request.headers[.authorization] != nil || request.cookies[AccessPolicy.cookieName] != nil
            throw APIError.unauthorized(
                presented
                    ? "the token or session is not valid (revoked, expired or mistyped); log in again"
                    : "credentials needed: an Authorization: Bearer token or a session (POST /api/v1/session)")
        }
        return try await next(request, context)
    }
}

/// The permission a group of routes needs: 401 without credentials, 403 when the role lacks it.
struct Require<Context: AuthRequestContext<Principal>>: RouterMiddleware {
    let permission: Permission
    /// Open to anyone (monitoring, when configured so).
    var open = false

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if open { return try await next(request, context) }
        guard let principal = context.identity else {
            throw APIError.unauthorized("credentials needed: an Authorization: Bearer token or a session")
        }
        guard principal.role.allows(permission) else {
            throw APIError(
                .forbidden, "the role '\(principal.role.rawValue)' of '\(principal.name)' may not \(permission.verb)")
        }
        return try await next(request, context)
    }
}

extension Permission {
    /// For 403 messages: "… may not <verb>".
    var verb: String {
        switch self {
        case .read: "read the API"
        case .monitor: "read the server's health and metrics"
        case .act: "acknowledge or resolve alerts or change devices"
        case .manage: "manage users and tokens"
        case .publish: "publish readings"
        }
    }
}

extension APIError {
    /// 401 with the challenge RFC 9110 asks for.
    static func unauthorized(_ message: String) -> APIError {
        var error = APIError(.unauthorized, message)
        error.headers = [.wwwAuthenticate: "Bearer realm=\"moby\""]
        return error
    }
}
