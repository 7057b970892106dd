"""The Sensors dashboard (uid moby-sensors, embedded by the console's device view): one panel per
metric group with the catalog's limits as threshold lines, alert events as annotations, and the
open alerts. Reads the raw tier (the default retention policy)."""

from __future__ import annotations

import os

from .catalog import RATE_UNIT, SCORE, Catalog
from .grafana import (INFLUX, Json, by_name, by_ref, dashboard, influx_annotation, influx_target, ref_ids,
                      table, timeseries)

DEVICE = '"device_id" =~ /^$device$/'
GROUP = 'GROUP BY time($__interval), "device_id" fill(none)'
# Panels in display order; a catalog metric not listed here gets a panel of its own.
GROUPS = [
    ("Temperature and humidity", ["temperature", "humidity"]),
    ("Vibration", ["vibration"]),
    ("Sound", ["sound"]),
    ("Acceleration", ["accel_x", "accel_y", "accel_z"]),
    ("Gyroscope", ["gyro_x", "gyro_y", "gyro_z"]),
]
RATE_TITLES = {"cycle_count": "Cycle rate"}
# Open alerts are looked for this far back, whatever the time picker says (the raw tier's default).
OPEN_ALERTS_WINDOW = "30d"


def series_query(select: str) -> str:
    return f'SELECT {select} FROM "sensors" WHERE $timeFilter AND {DEVICE} {GROUP}'


def split_by_scale(catalog: Catalog, metrics: list[str]) -> list[list[str]]:
    """Grafana draws one set of threshold lines per axis scale (unit): metrics sharing a unit
    but not their limits (accel_z against accel_x/y) go to panels of their own."""
    clusters: dict[tuple[str, str], list[str]] = {}
    for metric in metrics:
        clusters.setdefault((catalog.unit(metric), repr(catalog.steps(metric))), []).append(metric)
    units = [unit for unit, _ in clusters]
    if len(units) == len(set(units)):
        return [metrics]
    return list(clusters.values())


def subtitle(title: str, group: list[str], whole: list[str]) -> str:
    if group == whole:
        return title
    prefix = os.path.commonprefix(whole)
    return f"{title} ({', '.join(metric[len(prefix):] for metric in group)})"


def metric_panel(catalog: Catalog, title: str, metrics: list[str]) -> Json:
    """One target per metric; the panel's defaults carry the first metric's unit and limits,
    overrides (by query) the others' where they differ."""
    first = metrics[0]
    targets, overrides = [], []
    for ref, metric in zip(ref_ids(), metrics):
        alias = "$tag_device_id" if len(metrics) == 1 else "$tag_device_id $col"
        targets.append(influx_target(ref, series_query(f'mean("{metric}") AS "{metric}"'), alias))
        properties = []
        if catalog.unit(metric) != catalog.unit(first):
            properties += [{"id": "unit", "value": catalog.unit(metric)},
                           {"id": "custom.axisPlacement", "value": "right"}]
        if catalog.steps(metric) != catalog.steps(first):
            properties.append({"id": "thresholds", "value": {"mode": "absolute", "steps": catalog.steps(metric)}})
        if properties:
            overrides.append(by_ref(ref, properties))
    units = ", ".join(dict.fromkeys(catalog.metrics[m].get("unit", "") for m in metrics))
    description = (f"Mean per interval of {', '.join(metrics)} ({units}) per device; threshold lines at the "
                   "catalog's warning (orange) and critical (red) limits (config/sensors.json).")
    style = "line+area" if len(metrics) == 1 else "dashed"
    return timeseries(title, targets, description, catalog.unit(first), catalog.steps(first), style, overrides)


def rate_panel(catalog: Catalog, metric: str) -> Json:
    query = series_query(f'non_negative_derivative(last("{metric}"), 1m) AS "{metric}_per_minute"')
    title = RATE_TITLES.get(metric, f"{metric} per minute")
    unit = catalog.metrics[metric].get("unit", "counts")
    description = f"Increase of the {metric} counter per minute ({unit}/min) per device; a reset counts as 0."
    return timeseries(title, [influx_target("A", query, "$tag_device_id")], description, RATE_UNIT)


def score_panel(catalog: Catalog) -> Json:
    query = series_query(f'max("{SCORE}") AS "{SCORE}"')
    description = ("Worst anomaly score per interval and device (L2 norm of the normalized deviations); lines "
                   "at the score's warning and critical limits.")
    return timeseries("Anomaly score", [influx_target("A", query, "$tag_device_id")], description,
                      catalog.unit(SCORE), catalog.steps(SCORE), "line+area")


def open_alerts_panel() -> Json:
    latest = ('SELECT last("seq") AS "seq", "alert_id", "severity", "status", "event", "peak_score", '
              f'"reading_count", "summary" FROM "alerts" WHERE time > now() - {OPEN_ALERTS_WINDOW} AND {DEVICE} '
              'GROUP BY "device_id", "rule"')
    query = (f'SELECT "alert_id", "severity", "status", "event", "peak_score", "reading_count", "summary" '
             f"FROM ({latest}) WHERE \"status\" != 'resolved' GROUP BY \"device_id\", \"rule\"")
    severity_colors = [{"options": {"critical": {"color": "red", "index": 0}, "warning": {"color": "orange", "index": 1}},
                        "type": "value"}]
    overrides = [
        by_name("severity", [{"id": "mappings", "value": severity_colors},
                             {"id": "custom.cellOptions", "value": {"type": "color-text"}}]),
        by_name("summary", [{"id": "custom.width", "value": 600}]),
    ]
    organize = {"id": "organize", "options": {
        "excludeByName": {},
        "indexByName": {"Time": 0, "device_id": 1, "severity": 2, "status": 3, "peak_score": 4, "reading_count": 5,
                        "event": 6, "alert_id": 7, "rule": 8, "summary": 9},
        "renameByName": {"Time": "last event", "alert_id": "alert", "device_id": "device",
                         "peak_score": "peak score", "reading_count": "readings"},
    }}
    description = (f"Alerts whose latest event (within {OPEN_ALERTS_WINDOW}, whatever the time range) leaves them "
                   "pending or acknowledged, from the alerts measurement; acknowledge and resolve in the console.")
    return table("Open alerts", [influx_target("A", query, table=True)], description, overrides,
                 sort_by="last event", transformations=[organize])


def device_variable() -> Json:
    query = 'SHOW TAG VALUES FROM "sensors" WITH KEY = "device_id"'
    return {
        "allValue": ".*", "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "datasource": INFLUX, "definition": query, "hide": 0, "includeAll": True, "label": "Device",
        "multi": True, "name": "device", "options": [], "query": query, "refresh": 1, "regex": "",
        "skipUrlSync": False, "sort": 1, "type": "query",
    }


def annotations() -> list[Json]:
    base = f'SELECT "summary", "device_id", "severity", "event" FROM "alerts" WHERE $timeFilter AND {DEVICE}'
    return [
        influx_annotation("Critical alerts raised", "red",
                          f"{base} AND \"event\" = 'alert.raised' AND \"severity\" = 'critical'",
                          "summary", "device_id,severity", "event"),
        influx_annotation("Warning alerts raised", "orange",
                          f"{base} AND \"event\" = 'alert.raised' AND \"severity\" = 'warning'",
                          "summary", "device_id,severity", "event"),
        influx_annotation("Alerts acknowledged or resolved", "blue",
                          f"{base} AND (\"event\" = 'alert.acknowledged' OR \"event\" = 'alert.resolved')",
                          "summary", "device_id,severity", "event"),
    ]


def build(catalog: Catalog) -> Json:
    panels = [score_panel(catalog), open_alerts_panel()]
    listed = {metric for _, metrics in GROUPS for metric in metrics}
    groups = [(title, [m for m in metrics if m in catalog.metrics]) for title, metrics in GROUPS]
    groups += [(metric, [metric]) for metric in catalog.names() if metric not in listed]
    for title, metrics in groups:
        metrics = [m for m in metrics if not catalog.is_counter(m)]
        for part in split_by_scale(catalog, metrics) if metrics else []:
            panels.append(metric_panel(catalog, subtitle(title, part, metrics), part))
    panels += [rate_panel(catalog, m) for m in catalog.names() if catalog.is_counter(m)]
    description = ("Readings of the selected devices from InfluxDB (raw tier), generated from config/sensors.json "
                   "by deploy/grafana/generate: edit the catalog and regenerate, do not edit this file.")
    return dashboard("moby-sensors", "MOBY sensors", description, panels, "now-6h", "10s",
                     [device_variable()], annotations())
