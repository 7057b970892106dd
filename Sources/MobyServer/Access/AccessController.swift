import Foundation
import Hummingbird
import HummingbirdAuth
import MobyCore

/// `/api/v1/users` and `/api/v1/tokens` for admins: list, add and remove user accounts, create
/// (the secret is answered once) and revoke API tokens. The same as `moby-server users …` and
/// `moby-server tokens …` on the command line.
struct AccessController<Context: AuthRequestContext<Principal>>: Sendable {
    let credentials: CredentialStore

    struct AccountDocument: Encodable {
        var name: String
        var role: String
        var created: String

        init(_ account: Account) {
            name = account.name
            role = account.role.rawValue
            created = RFC3339.format(account.createdAt)
        }
    }

    struct TokenDocument: Encodable {
        var id: String
        var name: String
        var role: String
        var device: String?
        var created: String
        var lastUsed: String?

        enum CodingKeys: String, CodingKey {
            case id, name, role, device, created
            case lastUsed = "last_used"
        }

        init(_ token: TokenRecord) {
            id = token.id
            name = token.name
            role = token.role.rawValue
            device = token.device
            created = RFC3339.format(token.createdAt)
            lastUsed = token.lastUsedAt.map(RFC3339.format)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(role, forKey: .role)
            try container.encode(device, forKey: .device)
            try container.encode(created, forKey: .created)
            try container.encode(lastUsed, forKey: .lastUsed)
        }
    }

    struct Accounts: ResponseEncodable { var users: [AccountDocument] }
    struct OneAccount: ResponseEncodable { var user: AccountDocument }
    struct Tokens: ResponseEncodable { var tokens: [TokenDocument] }
    struct NewToken: ResponseEncodable {
        var token: TokenDocument
        /// Shown once; only its digest is kept.
        var secret: String
    }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/api/v1/users") { _, _ in
            Accounts(users: try await stored { try await credentials.users() }.map(AccountDocument.init))
        }
        routes.post("/api/v1/users") { request, _ in try await addUser(request) }
        routes.delete("/api/v1/users/{name}") { _, context in try await removeUser(context) }
        routes.get("/api/v1/tokens") { _, _ in
            Tokens(tokens: try await stored { try await credentials.tokens() }.map(TokenDocument.init))
        }
        routes.post("/api/v1/tokens") { request, _ in try await createToken(request) }
        routes.delete("/api/v1/tokens/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard try await stored({ try await credentials.revokeToken(id) }) else {
                throw APIError(.notFound, "no token with id '\(id.prefix(64))'")
            }
            return HTTPResponse.Status.noContent
        }
        return routes
    }

    private func addUser(_ request: Request) async throws -> EditedResponse<OneAccount> {
        var body = try await JSONBody.read(
            request, limit: 4 * 1024, example: #"{"name": "alice", "role": "operator", "password": "…"}"#)
        let name = body.string("name")
        let role = body.string("role").flatMap { text -> Role? in
            let role = Role(rawValue: text)
            if role == nil || role == .device {
                body.reject("role", "must be viewer, operator or admin (devices use tokens)")
            }
            return role
        }
        let password = body.string("password")
        try body.check()
        guard let name, let role, let password else { throw APIError(.badRequest, "invalid body") }
        do {
            try await credentials.addUser(name: name, role: role, password: password)
        } catch let error as CredentialError {
            let status: HTTPResponse.Status = error.isConflict ? .conflict : .unprocessableContent
            throw APIError(
                status, "cannot add the user", errors: [FieldError(field: error.field, message: error.message)])
        } catch {
            throw APIError(.serviceUnavailable, "the server's database failed: \(error)")
        }
        let account = try await stored { try await credentials.users() }.first { $0.name == name }
        guard let account else { throw APIError(.serviceUnavailable, "the new user was not found after adding it") }
        return EditedResponse(status: .created, response: OneAccount(user: AccountDocument(account)))
    }

    private func removeUser(_ context: Context) async throws -> HTTPResponse.Status {
        // The console percent-encodes the name (names may hold '@' and any letter).
        guard let name = context.parameters.get("name")?.removingPercentEncoding else {
            throw APIError(
                .badRequest, "invalid parameters",
                errors: [FieldError(field: "name", message: "is not valid percent-encoded UTF-8")])
        }
        if context.identity?.name == name, context.identity?.credential == .session {
            throw APIError(.conflict, "you cannot remove your own account while logged in with it")
        }
        guard try await stored({ try await credentials.removeUser(name) }) else {
            throw APIError(.notFound, "no user named '\(name.prefix(64))'")
        }
        return .noContent
    }

    private func createToken(_ request: Request) async throws -> EditedResponse<NewToken> {
        var body = try await JSONBody.read(
            request, limit: 4 * 1024, example: #"{"role": "device", "device": "press_07", "name": "press 7"}"#)
        let role = body.string("role").flatMap { text -> Role? in
            let role = Role(rawValue: text)
            if role == nil { body.reject("role", "must be one of \(Role.names)") }
            return role
        }
        let device = body.string("device", required: false)
        let name = body.string("name", required: false)
        try body.check()
        guard let role else { throw APIError(.badRequest, "invalid body") }
        do {
            let (record, secret) = try await credentials.createToken(role: role, device: device, name: name)
            return EditedResponse(status: .created, response: NewToken(token: TokenDocument(record), secret: secret))
        } catch let error as CredentialError {
            throw APIError(
                .unprocessableContent, "cannot create the token",
                errors: [FieldError(field: error.field, message: error.message)])
        } catch {
            throw APIError(.serviceUnavailable, "the server's database failed: \(error)")
        }
    }

    private func stored<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch {
            throw APIError(.serviceUnavailable, "the server's database failed: \(error)")
        }
    }
}
