import Foundation
import Hummingbird
import HummingbirdAuth
import MobyCore

/// `/api/v1/session`: log in with a user's name and password (a session cookie, `HttpOnly`,
/// `SameSite=Strict`), say who the current credential is, log out. Failed logins are rate
/// limited per client address and name, per address and per name (429 with `Retry-After`;
/// `LoginLimit`), so passwords cannot be guessed at speed, and a user who logged in from an
/// address before is not locked out by someone else failing there or with their name.
struct SessionController<Context: AuthRequestContext<Principal> & RemoteAddressRequestContext>: Sendable {
    let policy: AccessPolicy

    struct UserDocument: Encodable {
        var name: String
        var role: String
    }

    struct SessionDocument: ResponseEncodable {
        var user: UserDocument
        /// RFC 3339; null for tokens and when authentication is off.
        var expires: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(user, forKey: .user)
            try container.encode(expires, forKey: .expires)  // explicitly null, as documented
        }

        enum CodingKeys: String, CodingKey { case user, expires }
    }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("/api/v1/session") { request, context in try await login(request, context) }
        routes.get("/api/v1/session") { _, context in
            guard let principal = context.identity else { throw APIError.unauthorized("not logged in") }
            return Self.document(principal)
        }
        routes.delete("/api/v1/session") { request, _ in try await logout(request) }
        return routes
    }

    private func login(_ request: Request, _ context: Context) async throws -> Response {
        guard let credentials = policy.credentials else {
            throw APIError(
                .conflict, "authentication is off on this server (MOBY_AUTH=off); there is nothing to log in to")
        }
        var body = try await JSONBody.read(request, limit: 4 * 1024, example: #"{"name": "alice", "password": "…"}"#)
        let name = body.string("name")
        let password = body.string("password")
        try body.check()
        guard let name, let password else { return Response(status: .internalServerError) }
        let ticket: LoginLimit.Ticket
        switch policy.logins.admit(name: name, address: context.clientAddress) {
        case .admitted(let admitted):
            ticket = admitted
        case .limited(let wait, let scope):
            let address = context.clientAddress
            let whose =
                switch scope {
                case .name: "for '\(name.prefix(64))' from \(address)"
                case .address: "from \(address)"
                case .account: "for '\(name.prefix(64))'"
                }
            var error = APIError(
                .tooManyRequests, "too many failed logins \(whose); try again in \(wait.retryAfterSeconds) s")
            error.headers[.retryAfter] = String(wait.retryAfterSeconds)
            throw error
        case .busy:
            var error = APIError(.serviceUnavailable, "the server is busy checking other logins; try again in a moment")
            error.headers[.retryAfter] = "1"
            throw error
        }
        let principal: Principal?
        do {
            principal = try await credentials.verify(name: name, password: password)
        } catch {
            policy.logins.finish(ticket, .unchecked)
            throw APIError(.serviceUnavailable, "cannot check the password: \(error)")
        }
        policy.logins.finish(ticket, principal == nil ? .wrongPassword : .rightPassword)
        guard var principal else { throw APIError.unauthorized("wrong name or password") }
        let session = try await credentials.startSession(for: principal, lifetime: policy.sessionLifetime)
        principal.expiresAt = session.expiresAt
        var response = try Self.document(principal).response(from: request, context: context)
        response.setCookie(
            Cookie(
                name: AccessPolicy.cookieName, value: session.secret,
                maxAge: Int(policy.sessionLifetime.components.seconds), path: "/", secure: policy.secureCookies,
                httpOnly: true, sameSite: .strict))
        return response
    }

    private func logout(_ request: Request) async throws -> Response {
        if let credentials = policy.credentials, let cookie = request.cookies[AccessPolicy.cookieName]?.value {
            do {
                try await credentials.endSession(cookie)
            } catch {
                throw APIError(.serviceUnavailable, "cannot end the session: the server's database failed: \(error)")
            }
        }
        var response = Response(status: .noContent)
        response.setCookie(
            Cookie(
                name: AccessPolicy.cookieName, value: "", maxAge: 0, path: "/", secure: policy.secureCookies,
                httpOnly: true, sameSite: .strict))
        return response
    }

    static func document(_ principal: Principal) -> SessionDocument {
        SessionDocument(
            user: UserDocument(name: principal.name, role: principal.role.rawValue),
            expires: principal.expiresAt.map(RFC3339.format))
    }
}
