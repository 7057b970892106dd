import Hummingbird

/// Answers a request for a path the API has, with a method that path does not take, with 405
/// and `Allow` (RFC 9110 §15.5.6) instead of the router's 404: a client that POSTs to a GET
/// endpoint learns what is wrong, not that the endpoint is missing. Added to the router after
/// every route, it runs only for requests that no route took.
struct MethodNotAllowed<Context: RequestContext>: RouterMiddleware {
    private let routes: [(path: RouterPath, method: String)]

    init(routes: [Router<Context>.RouteDescription]) {
        self.routes = routes.map { ($0.path, $0.method.rawValue) }
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = methods(for: request.uri.path)
            // HEAD where GET works is not a wrong method (RFC 9110 §9.3.2), only one the API does
            // not serve separately: it keeps the router's answer.
            guard !allowed.isEmpty, !(request.method == .head && allowed.contains("GET")) else { throw error }
            var refusal = APIError(
                .methodNotAllowed,
                "\(request.method) is not allowed on \(request.uri.path.prefix(256)); it takes \(allowed.joined(separator: ", "))"
            )
            refusal.headers[.allow] = allowed.joined(separator: ", ")
            throw refusal
        }
    }

    /// The methods of the routes whose path matches `path`, sorted.
    func methods(for path: String) -> [String] {
        let components = path.split(separator: "/")
        return Set(routes.filter { Self.matches($0.path.components, components) }.map(\.method)).sorted()
    }

    private static func matches(_ pattern: [RouterPath.Element], _ components: [Substring]) -> Bool {
        var index = 0
        for element in pattern {
            if element.description == "**" { return index < components.count }
            guard index < components.count, element ~= components[index] else { return false }
            index += 1
        }
        return index == components.count
    }
}
