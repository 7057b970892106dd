import Hummingbird
import HummingbirdWebSocket

/// The whole HTTP API (and the `/ws` upgrade) over the server's parts; no I/O of its own.
/// `Authentication` finds who is asking for every request; each group of routes then demands
/// the permission it needs (`Require`), so this function is the API's access table.
func buildRouter(_ parts: ServerParts) -> Router<MobyRequestContext> {
    let configuration = parts.configuration
    let policy = parts.access
    let router = Router(context: MobyRequestContext.self)
    router.add(middleware: Authentication(policy: policy))
    let console = ConsoleController<MobyRequestContext>(bundle: parts.console, grafana: configuration.grafana)
    let health = HealthController<MobyRequestContext>(
        client: parts.client, influx: parts.influx, writer: parts.writer, status: parts.status,
        refusals: parts.refusals)
    let alerts = AlertController<MobyRequestContext>(center: parts.center, store: parts.alertStore)
    let devices = DeviceController<MobyRequestContext>(
        fleet: parts.fleet, center: parts.center, registry: parts.registry, catalog: configuration.catalog,
        staleAfter: configuration.staleAfter)

    // Open to anyone: liveness, logging in and out, the console's files.
    if let files = console.files { router.add(middleware: files) }
    router.addRoutes(console.pageRoutes)
    router.addRoutes(health.routes)
    router.addRoutes(SessionController(policy: policy).routes)
    router.addRoutes(parts.openAPI.routes)

    router.group().add(middleware: Require(permission: .monitor, open: policy.openMonitoring))
        .addRoutes(health.readinessRoutes)
        .addRoutes(
            MetricsController(
                metrics: parts.metrics, refusals: parts.refusals, influx: parts.influx, status: parts.status
            ).routes)

    let readers = router.group().add(middleware: Require(permission: .read))
    readers.addRoutes(console.routes)
        .addRoutes(alerts.routes)
        .addRoutes(devices.routes)
        .addRoutes(ReadingsController(influx: parts.influx).routes)
        .addRoutes(CatalogController(catalog: configuration.catalog).routes)
    AlertStreamController(
        store: parts.alertStore, feed: parts.feed, heartbeat: configuration.heartbeatInterval, metrics: parts.metrics,
        maxClients: configuration.webSocketMaxClients
    ).register(on: readers)

    router.group().add(middleware: Require(permission: .act))
        .addRoutes(alerts.actionRoutes)
        .addRoutes(devices.actionRoutes)

    router.group().add(middleware: Require(permission: .publish))
        .addRoutes(
            PublishController(
                client: parts.client, readingCheck: parts.readingCheck, fleet: parts.fleet, metrics: parts.metrics,
                limit: policy.publishes
            ).routes)

    if let credentials = policy.credentials {
        router.group().add(middleware: Require(permission: .manage))
            .addRoutes(AccessController(credentials: credentials).routes)
    }
    // Last: it wraps only what no route took (a known path, another method: 405).
    router.add(middleware: MethodNotAllowed(routes: router.routes))
    return router
}
