import Foundation
import Hummingbird
import HummingbirdAuth
import MobyCore

/// `/api/v1/alerts`: list and filter alerts, read one with its history, and move it through
/// its lifecycle (acknowledge, resolve). Illegal transitions answer 409 with the reason.
struct AlertController<Context: AuthRequestContext<Principal>>: Sendable {
    let center: AlertCenter
    let store: any AlertStore

    struct AlertList: ResponseEncodable {
        var alerts: [AlertDocument]
        var total: Int
        var limit: Int
        var offset: Int
    }

    struct AlertDetail: ResponseEncodable {
        var alert: AlertDocument
        /// The latest entries (`?history=`, 200 by default), oldest first.
        var history: [AlertHistoryDocument]?
        /// How many entries the alert has in all (a flapping alert can have thousands).
        var historyTotal: Int?

        enum CodingKeys: String, CodingKey {
            case alert, history
            case historyTotal = "history_total"
        }
    }

    /// The optional body of acknowledge and resolve (the actor is whoever is logged in).
    struct ActionBody: Decodable {
        var note: String?
    }

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/api/v1/alerts") { request, _ in try await list(request) }
        routes.get("/api/v1/alerts/{id}") { request, context in try await detail(try id(context), request) }
        return routes
    }

    /// The lifecycle actions (operators).
    var actionRoutes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("/api/v1/alerts/{id}/acknowledge") { request, context in
            try await act(request, context: context) { id, actor, note throws(AlertActionError) in
                try await center.acknowledge(id: id, actor: actor, note: note)
            }
        }
        routes.post("/api/v1/alerts/{id}/resolve") { request, context in
            try await act(request, context: context) { id, actor, note throws(AlertActionError) in
                try await center.resolve(id: id, actor: actor, note: note)
            }
        }
        return routes
    }

    private func list(_ request: Request) async throws -> AlertList {
        var parameters = QueryParameters(request)
        var query = AlertQuery()
        query.statuses = parameters.list(
            "status", AlertStatus.init(rawValue:), allowed: AlertStatus.allCases.map(\.rawValue))
        query.severities = parameters.list(
            "severity", Severity.init(rawValue:), allowed: Severity.allCases.map(\.rawValue))
        query.deviceID = parameters.deviceID("device")
        query.from = parameters.time("from")
        query.to = parameters.time("to")
        query.limit = parameters.int("limit", default: 50, in: 1...1000)
        query.offset = parameters.int("offset", default: 0, in: 0...Int(Int32.max))
        try parameters.check()
        let page: AlertPage
        do {
            page = try await store.alerts(query)
        } catch {
            throw APIError(.serviceUnavailable, "the alert store is unavailable: \(error)")
        }
        return AlertList(
            alerts: page.alerts.map(AlertDocument.init), total: page.total, limit: query.limit, offset: query.offset)
    }

    private func detail(_ id: Int64, _ request: Request) async throws -> AlertDetail {
        var parameters = QueryParameters(request)
        let latest = parameters.int("history", default: 200, in: 1...10_000)
        try parameters.check()
        let alert: Alert?
        let history: (entries: [AlertHistoryEntry], total: Int)
        do {
            alert = try await store.alert(id: id)
            history = try await store.history(alertID: id, latest: latest)
        } catch {
            throw APIError(.serviceUnavailable, "the alert store is unavailable: \(error)")
        }
        guard let alert else { throw APIError(.notFound, "no alert with id \(id)") }
        return AlertDetail(
            alert: AlertDocument(alert), history: history.entries.map(AlertHistoryDocument.init),
            historyTotal: history.total)
    }

    private func act(
        _ request: Request, context: Context,
        _ action: (Int64, String, String?) async throws(AlertActionError) -> Alert
    ) async throws -> AlertDetail {
        let id = try id(context)
        let body = try await actionBody(request)
        guard let actor = context.identity?.name else { throw APIError.unauthorized("credentials needed") }
        do throws(AlertActionError) {
            return AlertDetail(alert: AlertDocument(try await action(id, actor, body.note)))
        } catch {
            switch error {
            case .notFound(let id): throw APIError(.notFound, "no alert with id \(id)")
            case .conflict(let reason): throw APIError(.conflict, reason.description)
            case .unavailable(let reason): throw APIError(.serviceUnavailable, reason)
            }
        }
    }

    private func actionBody(_ request: Request) async throws -> ActionBody {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 16 * 1024)
        } catch {
            throw APIError(.contentTooLarge, "body larger than 16 KiB")
        }
        guard body.readableBytes > 0 else { return ActionBody() }
        do {
            let decoded = try JSONDecoder().decode(ActionBody.self, from: Data(body.readableBytesView))
            if let note = decoded.note, note.utf8.count > 4096 {
                throw APIError(
                    .badRequest, "invalid body", errors: [FieldError(field: "note", message: "longer than 4096 bytes")])
            }
            return decoded
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, "the body must be JSON like {\"note\": \"…\"}: \(error)")
        }
    }

    private func id(_ context: Context) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError(.badRequest, "the alert id must be a positive whole number")
        }
        return id
    }
}
