import Hummingbird
import HummingbirdWebSocket

/// The request context of every route (HTTP and the `/ws` upgrade); the one place where HTTP
/// authentication will go.
public typealias MobyRequestContext = BasicWebSocketRequestContext

/// The whole HTTP API (and the `/ws` upgrade) over the server's parts; no I/O of its own.
func buildRouter(_ parts: ServerParts) -> Router<MobyRequestContext> {
    let configuration = parts.configuration
    let router = Router(context: MobyRequestContext.self)
    let console = ConsoleController<MobyRequestContext>(bundle: parts.console, grafana: configuration.grafana)
    if let files = console.files { router.add(middleware: files) }
    router.addRoutes(console.routes)
    router.addRoutes(
        HealthController(
            client: parts.client, influx: parts.influx, writer: parts.writer, status: parts.status,
            refusals: parts.refusals
        ).routes)
    router.addRoutes(
        PublishController(
            client: parts.client, readingCheck: parts.readingCheck, fleet: parts.fleet, metrics: parts.metrics
        ).routes)
    router.addRoutes(
        MetricsController(
            metrics: parts.metrics, refusals: parts.refusals, influx: parts.influx, status: parts.status
        ).routes)
    router.addRoutes(AlertController(center: parts.center, store: parts.alertStore).routes)
    router.addRoutes(
        DeviceController(
            fleet: parts.fleet, center: parts.center, registry: parts.registry, catalog: configuration.catalog,
            staleAfter: configuration.staleAfter
        ).routes)
    router.addRoutes(ReadingsController(influx: parts.influx).routes)
    router.addRoutes(CatalogController(catalog: configuration.catalog).routes)
    AlertStreamController(
        store: parts.alertStore, feed: parts.feed, heartbeat: configuration.heartbeatInterval, metrics: parts.metrics
    ).register(on: router)
    return router
}
