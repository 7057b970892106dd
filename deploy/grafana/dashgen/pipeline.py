"""The Pipeline dashboard (uid moby-pipeline): moby-server's own health from Prometheus scraping
/metrics (Sources/MobyServer/Health/ServerMetrics.swift): throughput, spool, InfluxDB writes, the
broker link, clients and the process. Independent of the sensor catalog."""

from __future__ import annotations

from .grafana import (PROMETHEUS, Json, by_ref, dashboard, prom_target, ref_ids, state_timeline, stat,
                      timeseries)

SELECTOR = 'job="moby-server", instance=~"$instance"'
RATE = "[$__rate_interval]"


def m(name: str) -> str:
    return f"{name}{{{SELECTOR}}}"


def rate(name: str) -> str:
    return f"sum by (instance) (rate({m(name)}{RATE}))"


def increase(name: str) -> str:
    return f"sum by (instance) (increase({m(name)}{RATE}))"


def quantile(q: float, histogram: str) -> str:
    return f"histogram_quantile({q}, sum by (instance, le) (rate({m(histogram + '_bucket')}{RATE})))"


def targets(*pairs: tuple[str, str]) -> list[Json]:
    return [prom_target(ref, expr, legend) for ref, (expr, legend) in zip(ref_ids(), pairs)]


def right_axis(ref: str, unit: str) -> Json:
    return by_ref(ref, [{"id": "unit", "value": unit}, {"id": "custom.axisPlacement", "value": "right"}])


def links_panel() -> Json:
    up_down = [{"options": {"0": {"color": "red", "index": 0, "text": "down"},
                            "1": {"color": "green", "index": 1, "text": "up"}}, "type": "value"}]
    pairs = (
        ("up{job=\"moby-server\", instance=~\"$instance\"}", "scraped {{instance}}"),
        (f"max by (instance) ({m('moby_mqtt_connected')})", "broker connected {{instance}}"),
        (f"max by (instance) ({m('moby_mqtt_subscribed')})", "subscribed {{instance}}"),
        (f"max by (instance) ({m('moby_influx_reachable')})", "InfluxDB reachable {{instance}}"),
        (f"1 - max by (instance) ({m('moby_influx_refusing')})", "InfluxDB accepting lines {{instance}}"),
    )
    description = ("Whether Prometheus reaches the server, the broker connection and subscription are up, "
                   "InfluxDB answers, and InfluxDB accepts lines (down: 10+ refused within 60 s).")
    return state_timeline("Links", targets(*pairs), description, up_down)


def messages_panel() -> Json:
    pairs = (
        (rate("moby_mqtt_messages_received_total"), "received {{instance}}"),
        (rate("moby_readings_stored_total"), "stored {{instance}}"),
        (rate("moby_messages_rejected_total"), "rejected {{instance}}"),
        (rate("moby_dead_letters_published_total"), "dead-lettered {{instance}}"),
        (rate("moby_influx_lines_refused_total"), "refused by InfluxDB {{instance}}"),
    )
    description = ("Messages received from the broker, readings stored in InfluxDB (live and replayed), messages "
                   "rejected by validation, dead letters published, lines InfluxDB refused; per second.")
    return timeseries("Messages per second", targets(*pairs), description, "cps", min_value=0)


def spool_panel() -> Json:
    pairs = ((f"sum by (instance) ({m('moby_spool_readings')})", "readings {{instance}}"),
             (f"sum by (instance) ({m('moby_spool_bytes')})", "bytes {{instance}}"))
    description = "Readings waiting in the disk spool for InfluxDB (grows while InfluxDB is away, drains after)."
    return timeseries("Spool depth", targets(*pairs), description, "short", overrides=[right_axis("B", "bytes")],
                      min_value=0)


def write_latency_panel() -> Json:
    pairs = tuple((quantile(q, "moby_influx_write_seconds"), f"p{int(q * 100)} {{{{instance}}}}")
                  for q in (0.5, 0.95, 0.99))
    description = "Time from a batch's first write attempt to InfluxDB accepting it (histogram quantiles)."
    return timeseries("InfluxDB write latency", targets(*pairs), description, "s", min_value=0)


def batch_size_panel() -> Json:
    histogram = "moby_influx_batch_lines"
    mean = (f"sum by (instance) (rate({m(histogram + '_sum')}{RATE})) / "
            f"sum by (instance) (rate({m(histogram + '_count')}{RATE}))")
    pairs = ((mean, "mean {{instance}}"), (quantile(0.95, histogram), "p95 {{instance}}"),
             (rate("moby_influx_batches_total"), "batches/s {{instance}}"))
    description = "Readings per InfluxDB write (group commit grows batches under load) and writes per second."
    return timeseries("InfluxDB batch size", targets(*pairs), description, "short",
                      overrides=[right_axis("C", "wps")], min_value=0)


def broker_panel() -> Json:
    pairs = ((increase("moby_mqtt_connects_total"), "connects {{instance}}"),
             (increase("moby_mqtt_disconnects_total"), "disconnects {{instance}}"),
             (increase("moby_mqtt_keepalive_timeouts_total"), "keep-alive timeouts {{instance}}"))
    description = ("Broker connections made and lost per interval: a reconnect shows as a disconnect then a "
                   "connect; keep-alive timeouts are silent links the server gave up.")
    return timeseries("MQTT reconnects", targets(*pairs), description, "short", draw="bars", fill=80, min_value=0)


def clients_panel() -> Json:
    pairs = ((f"sum by (instance) ({m('moby_websocket_clients')})", "WebSocket clients {{instance}}"),
             (f"sum by (instance) ({m('moby_http_connections')})", "HTTP connections {{instance}}"),
             (increase("moby_websocket_clients_dropped_total"), "WebSocket clients dropped {{instance}}"))
    description = "Alert stream (/ws) clients, open HTTP connections, and /ws clients dropped for falling behind."
    return timeseries("WebSocket clients", targets(*pairs), description, "short", min_value=0)


def cpu_panel() -> Json:
    pairs = ((f"sum by (instance) (rate({m('process_cpu_seconds_total')}{RATE}))", "CPU {{instance}}"),)
    description = "moby-server's CPU time per second (100% = one core)."
    return timeseries("Process CPU", targets(*pairs), description, "percentunit", min_value=0)


def memory_panel() -> Json:
    pairs = ((f"sum by (instance) ({m('process_resident_memory_bytes')})", "resident memory {{instance}}"),
             (f"sum by (instance) ({m('process_open_fds')})", "open files {{instance}}"))
    description = "moby-server's resident memory and open file descriptors (sockets included)."
    return timeseries("Process memory", targets(*pairs), description, "bytes", overrides=[right_axis("B", "short")],
                      min_value=0)


def devices_panel() -> Json:
    pairs = ((f"sum by (instance) ({m('moby_devices')})", "devices {{instance}}"),
             (f"time() - max by (instance) ({m('process_start_time_seconds')})", "uptime {{instance}}"))
    description = "Devices the server tracks since it started (limit: moby_devices_limit), and its uptime."
    return stat("Devices and uptime", targets(*pairs), description, overrides=[by_ref("B", [{"id": "unit", "value": "s"}])],
                height=8)


def instance_variable() -> Json:
    query = 'label_values(moby_mqtt_connected{job="moby-server"}, instance)'
    return {
        "allValue": ".+", "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "datasource": PROMETHEUS, "definition": query, "hide": 0, "includeAll": True, "label": "Server",
        "multi": True, "name": "instance", "options": [],
        "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2, "regex": "", "skipUrlSync": False, "sort": 1, "type": "query",
    }


def build() -> Json:
    panels = [links_panel(), messages_panel(), spool_panel(), write_latency_panel(), batch_size_panel(),
              broker_panel(), clients_panel(), cpu_panel(), memory_panel(), devices_panel()]
    description = ("moby-server's pipeline metrics from Prometheus (job moby-server), generated by "
                   "deploy/grafana/generate: do not edit this file. Alerting rules: deploy/prometheus/rules/.")
    return dashboard("moby-pipeline", "MOBY pipeline", description, panels, "now-1h", "10s", [instance_variable()])
