import Hummingbird

/// The operator console: its static files at `/` (hashed assets cached for a year, `index.html`
/// and `manifest.json` revalidated every time, so a new build is picked up at once) and
/// `GET /api/v1/console`, the settings the console reads at start (the Grafana embed). Without a
/// bundle, `/` answers 503 saying how to build one, never a blank page.
struct ConsoleController<Context: RequestContext>: Sendable {
    let bundle: ConsoleBundle
    let grafana: GrafanaEmbed?

    struct Settings: ResponseEncodable {
        var grafana: GrafanaEmbed?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            // Explicitly null: the console tells "not configured" from "unknown".
            try container.encode(grafana, forKey: .grafana)
        }

        enum CodingKeys: String, CodingKey { case grafana }
    }

    /// The console's settings (for readers).
    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/api/v1/console") { _, _ in Settings(grafana: grafana) }
        return routes
    }

    /// The page itself, open to anyone (the login page is part of it).
    var pageRoutes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        if case .missing(let reason) = bundle.state {
            routes.get("/") { _, _ -> Response in
                throw APIError(.serviceUnavailable, "the operator console is not built: \(reason)")
            }
        }
        return routes
    }

    /// Serves the bundle's files for GET and HEAD requests no route answered.
    var files: FileMiddleware<Context, LocalFileSystem>? {
        guard bundle.isServable else { return nil }
        let revalidate: [CacheControl.CacheControlValue] = [.noCache]
        let forever: [CacheControl.CacheControlValue] = [.public, .maxAge(31_536_000), .immutable]
        return FileMiddleware(
            bundle.directory,
            cacheControl: CacheControl([
                (.textHtml, revalidate), (.applicationJson, revalidate), (.textJavascript, forever),
                (.textCss, forever),
            ]),
            searchForIndexHtml: true)
    }
}

/// Where the console finds the Grafana dashboard it embeds in the device view.
public struct GrafanaEmbed: Codable, Sendable, Equatable {
    /// Grafana's base URL as the operator's browser reaches it.
    public var url: String
    /// The uid of the sensors dashboard.
    public var dashboard: String
}
