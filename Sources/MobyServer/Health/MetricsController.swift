import Hummingbird

/// `GET /metrics`: the server's counters in Prometheus text format.
struct MetricsController<Context: RequestContext>: Sendable {
    let metrics: ServerMetrics
    let refusals: RefusedReadings

    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/metrics") { _, _ in
            _ = refusals.currentState()  // the refusal gauges age with time, not only with refusals
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        return routes
    }
}
