import Hummingbird
import Influx

/// `GET /metrics`: the server's counters in Prometheus text format. States that change without
/// an event (InfluxDB reachable, the subscription, the process) are sampled at each scrape.
struct MetricsController<Context: RequestContext>: Sendable {
    let metrics: ServerMetrics
    let refusals: RefusedReadings
    let influx: InfluxClient
    let status: IngestStatus

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/metrics") { _, _ in
            _ = refusals.currentState()  // the refusal gauges age with time, not only with refusals
            metrics.influxReachable.set(to: await influx.ping(timeout: .seconds(1)) ? 1 : 0)
            metrics.mqttSubscribed.set(to: status.isSubscribed ? 1 : 0)
            metrics.process.update()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        return routes
    }
}
