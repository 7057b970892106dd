"""The Fleet dashboard (uid moby-fleet): every device at a glance. History panels read the
long-term tier (1-minute mean/min/max per device, kept a year) so a month costs what an hour
of raw readings would; the status counts read the raw tier, which is current to the second."""

from __future__ import annotations

from .catalog import SCORE, Catalog
from .grafana import Json, by_name, by_ref, dashboard, fixed_color, influx_target, stat, table, timeseries

LONG_TERM = '"long_term"."sensors"'
REPORTING_WINDOW = "1m"  # a device is reporting when its latest reading is at most this old


def latest_scores(where: str) -> str:
    return f'SELECT last("{SCORE}") AS "score" FROM "sensors" WHERE {where} GROUP BY "device_id"'


def silent_query() -> str:
    """Devices seen in the time range but not within the reporting window. InfluxQL has no set
    difference, and an outer `time <` condition would narrow the subquery's range too, so both
    sets are unioned and a device found once (only in the range) is silent."""
    seen = latest_scores("$timeFilter")
    reporting = latest_scores(f"time > now() - {REPORTING_WINDOW}")
    per_device = f'SELECT count("score") AS "sets" FROM ({seen}), ({reporting}) GROUP BY "device_id"'
    return f'SELECT count("sets") FROM ({per_device}) WHERE "sets" = 1'


def status_panel(catalog: Catalog) -> Json:
    warning, critical = catalog.score["warning"], catalog.score["critical"]
    recent = latest_scores(f"time > now() - {REPORTING_WINDOW}")
    queries = [
        ("A", "Normal", "green", f'SELECT count("score") FROM ({recent}) WHERE "score" < {warning}'),
        ("B", "Warning", "orange",
         f'SELECT count("score") FROM ({recent}) WHERE "score" >= {warning} AND "score" < {critical}'),
        ("C", "Critical", "red", f'SELECT count("score") FROM ({recent}) WHERE "score" >= {critical}'),
        ("D", "Silent", "text", silent_query()),
    ]
    targets = [influx_target(ref, query, alias) for ref, alias, _, query in queries]
    overrides = [by_ref(ref, [fixed_color(color)]) for ref, _, color, _ in queries]
    description = (f"Devices whose latest reading is at most {REPORTING_WINDOW} old, by that reading's anomaly "
                   f"score (warning ≥ {warning}, critical ≥ {critical}; per-metric limits show in alerts), and "
                   f"silent devices: seen in the time range but not within {REPORTING_WINDOW}. Raw tier.")
    return stat("Devices by status", targets, description, overrides=overrides, height=8)


def reporting_panel() -> Json:
    inner = (f'SELECT last("mean_{SCORE}") AS "score" FROM {LONG_TERM} WHERE $timeFilter '
             'GROUP BY time($__interval), "device_id"')
    query = f'SELECT count("score") AS "devices" FROM ({inner}) WHERE $timeFilter GROUP BY time($__interval) fill(0)'
    description = "Devices with at least one reading per interval (long-term tier, 1-minute resolution)."
    return timeseries("Reporting devices", [influx_target("A", query, "reporting devices")], description,
                      "short", interval="1m", min_value=0)


def score_history_panel(catalog: Catalog) -> Json:
    query = (f'SELECT max("max_{SCORE}") AS "worst", mean("mean_{SCORE}") AS "mean" FROM {LONG_TERM} '
             "WHERE $timeFilter GROUP BY time($__interval) fill(none)")
    description = ("Worst and mean anomaly score over the whole fleet per interval (long-term tier); lines at "
                   "the score's warning and critical limits.")
    return timeseries("Fleet anomaly score", [influx_target("A", query, "$col")], description,
                      catalog.unit(SCORE), catalog.steps(SCORE), "line+area", interval="1m")


def worst_per_device_panel(catalog: Catalog) -> Json:
    query = (f'SELECT max("max_{SCORE}") AS "worst score" FROM {LONG_TERM} WHERE $timeFilter '
             'GROUP BY "device_id"')
    organize = {"id": "organize", "options": {"excludeByName": {"Time": True}, "indexByName": {},
                                              "renameByName": {"device_id": "device"}}}
    overrides = [by_name("worst score", [{"id": "custom.cellOptions",
                                          "value": {"mode": "basic", "type": "color-background"}}])]
    description = ("Each device's worst anomaly score in the time range (long-term tier), worst first; "
                   "coloured at the score's warning and critical limits.")
    return table("Worst anomaly score per device", [influx_target("A", query, table=True)], description,
                 overrides, catalog.steps(SCORE), catalog.unit(SCORE), sort_by="worst score",
                 transformations=[organize])


def alerts_per_hour_panel() -> Json:
    query = ('SELECT count("alert_id") FROM "alerts" WHERE $timeFilter AND "event" = \'alert.raised\' '
             'GROUP BY time(1h), "severity" fill(0)')
    overrides = [by_name(name, [fixed_color(color)]) for name, color in (("critical", "red"), ("warning", "orange"))]
    description = "Alerts raised per hour by their severity when raised (escalations are not counted again)."
    return timeseries("Alerts raised per hour", [influx_target("A", query, "$tag_severity")], description,
                      "short", overrides=overrides, draw="bars", fill=80, stacked=True, width=24, min_value=0)


def build(catalog: Catalog) -> Json:
    panels = [status_panel(catalog), reporting_panel(), score_history_panel(catalog),
              worst_per_device_panel(catalog), alerts_per_hour_panel()]
    description = ("The whole fleet from InfluxDB: status now (raw tier) and history (long-term tier, filled by a "
                   "continuous query), generated by deploy/grafana/generate: do not edit this file.")
    return dashboard("moby-fleet", "MOBY fleet", description, panels, "now-24h", "30s")
