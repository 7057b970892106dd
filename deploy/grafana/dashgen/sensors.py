"""The Sensors dashboard (uid moby-sensors, embedded by the console's device view): the open
alerts, then a row per device profile (default first, every row open) with one
panel per metric group drawing that profile's devices against that profile's limits as threshold
lines (Grafana draws one set of thresholds per panel), alert events as annotations; variables
location, line and device. Reads the raw tier (the default retention policy)."""

from __future__ import annotations

import os
import zlib

from .catalog import DEFAULT_PROFILE, RATE_UNIT, SCORE, Catalog
from .grafana import (Json, by_name, by_ref, dashboard, influx_annotation, influx_target, query_variable, ref_ids,
                      row, table, timeseries)

# Points of the sensors measurement: the selected devices at the selected locations and lines.
# With All (`.*`) a location or line also matches points without the tag (devices never placed).
PLACE = '"location" =~ /^$location$/ AND "line" =~ /^$line$/'
SENSORS = f'"device_id" =~ /^$device$/ AND {PLACE}'
# Alert events carry no location or line: the hidden variable `scope` lists the devices at the
# selected locations and lines (All is the list itself, not `.*`).
ALERTS = '"device_id" =~ /^$device$/ AND "device_id" =~ /^$scope$/'
GROUP = 'GROUP BY time($__interval), "device_id" fill(none)'
DEVICES_HERE = f'SHOW TAG VALUES FROM "sensors" WITH KEY = "device_id" WHERE {PLACE}'
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


# Panel ids: a block of PROFILE_BLOCK per profile, the row first; default's block is 1 (ids 100...),
# another profile's is found from its name, so adding, removing or reordering profiles leaves the
# others' ids (and links to their panels) alone. Id 1 is the open alerts.
PROFILE_BLOCK = 100
PROFILE_SLOTS = 9_998


def profile_condition(profile: str) -> str:
    """The points of the profile's devices; default also takes points stored before devices had
    profiles (no profile tag, which InfluxQL compares as '')."""
    if profile == DEFAULT_PROFILE:
        return f"(\"profile\" = '{DEFAULT_PROFILE}' OR \"profile\" = '')"
    return f"\"profile\" = '{profile}'"


def series_query(select: str, profile: str) -> str:
    return (f'SELECT {select} FROM "sensors" WHERE $timeFilter AND {SENSORS} AND {profile_condition(profile)} '
            f'{GROUP}')


def profile_blocks(names: list[str]) -> dict[str, int]:
    """Each profile's id block: default 1; another 2 + crc32(name) mod PROFILE_SLOTS, the next
    free one on a collision (in name order, so the catalog's order does not matter)."""
    blocks = {DEFAULT_PROFILE: 1}
    for name in sorted(n for n in names if n != DEFAULT_PROFILE):
        slot = zlib.crc32(name.encode()) % PROFILE_SLOTS
        while 2 + slot in blocks.values():
            slot = (slot + 1) % PROFILE_SLOTS
        blocks[name] = 2 + slot
    return blocks


def titled(title: str, profile: str) -> str:
    return title if profile == DEFAULT_PROFILE else f"{title} · {profile}"


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
        targets.append(influx_target(ref, series_query(f'mean("{metric}") AS "{metric}"', catalog.name), alias))
        properties = []
        if catalog.unit(metric) != catalog.unit(first):
            properties += [{"id": "unit", "value": catalog.unit(metric)},
                           {"id": "custom.axisPlacement", "value": "right"}]
        if catalog.steps(metric) != catalog.steps(first):
            properties.append({"id": "thresholds", "value": {"mode": "absolute", "steps": catalog.steps(metric)}})
        if properties:
            overrides.append(by_ref(ref, properties))
    units = ", ".join(dict.fromkeys(catalog.metrics[m].get("unit", "") for m in metrics))
    description = (f"Mean per interval of {', '.join(metrics)} ({units}) per device of profile {catalog.name}; "
                   f"threshold lines at the profile's warning (orange) and critical (red) limits "
                   "(config/sensors.json).")
    style = "line+area" if len(metrics) == 1 else "dashed"
    return timeseries(title, targets, description, catalog.unit(first), catalog.steps(first), style, overrides)


def rate_panel(catalog: Catalog, metric: str) -> Json:
    query = series_query(f'non_negative_derivative(last("{metric}"), 1m) AS "{metric}_per_minute"', catalog.name)
    title = RATE_TITLES.get(metric, f"{metric} per minute")
    unit = catalog.metrics[metric].get("unit", "counts")
    description = (f"Increase of the {metric} counter per minute ({unit}/min) per device of profile "
                   f"{catalog.name}; a reset counts as 0.")
    return timeseries(titled(title, catalog.name), [influx_target("A", query, "$tag_device_id")], description,
                      RATE_UNIT)


def score_panel(catalog: Catalog) -> Json:
    query = series_query(f'max("{SCORE}") AS "{SCORE}"', catalog.name)
    description = (f"Worst anomaly score per interval of each device of profile {catalog.name} (L2 norm of the "
                   "deviations normalized by the profile's nominal and scale); lines at the profile's score "
                   "limits.")
    return timeseries(titled("Anomaly score", catalog.name), [influx_target("A", query, "$tag_device_id")],
                      description, catalog.unit(SCORE), catalog.steps(SCORE), "line+area")


def open_alerts_panel() -> Json:
    latest = ('SELECT last("seq") AS "seq", "alert_id", "severity", "status", "event", "peak_score", '
              f'"reading_count", "summary" FROM "alerts" WHERE time > now() - {OPEN_ALERTS_WINDOW} AND {ALERTS} '
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
    panel = table("Open alerts", [influx_target("A", query, table=True)], description, overrides,
                  sort_by="last event", transformations=[organize], width=24)
    panel["id"] = 1
    return panel


def place_variables() -> list[Json]:
    """location, then the lines at the selected locations (both multi-valued, All `.*`)."""
    return [
        query_variable("location", "Location", 'SHOW TAG VALUES FROM "sensors" WITH KEY = "location"'),
        query_variable("line", "Line",
                       'SHOW TAG VALUES FROM "sensors" WITH KEY = "line" WHERE "location" =~ /^$location$/'),
    ]


def scope_variable() -> Json:
    """Hidden: the devices at the selected locations and lines, for alert events (which carry no
    location or line); All is the listed devices, not `.*`. Refreshed with the time range (and
    auto-refresh) so a device that first reported after the dashboard opened is in it."""
    return query_variable("scope", "Devices at the location and line", DEVICES_HERE, all_value=None, hide=2,
                          refresh=2)


def variables() -> list[Json]:
    """location, line, then the devices there (the console's device view sets `device`), and scope."""
    return [*place_variables(), query_variable("device", "Device", DEVICES_HERE), scope_variable()]


def annotations() -> list[Json]:
    base = f'SELECT "summary", "device_id", "severity", "event" FROM "alerts" WHERE $timeFilter AND {ALERTS}'
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


def profile_panels(catalog: Catalog) -> list[Json]:
    """The panels of one profile's row: score, metric groups, counters as rates."""
    panels = [score_panel(catalog)]
    listed = {metric for _, metrics in GROUPS for metric in metrics}
    groups = [(title, [m for m in metrics if m in catalog.metrics]) for title, metrics in GROUPS]
    groups += [(metric, [metric]) for metric in catalog.names() if metric not in listed]
    for title, metrics in groups:
        metrics = [m for m in metrics if not catalog.is_counter(m)]
        for part in split_by_scale(catalog, metrics) if metrics else []:
            panels.append(metric_panel(catalog, titled(subtitle(title, part, metrics), catalog.name), part))
    panels += [rate_panel(catalog, m) for m in catalog.names() if catalog.is_counter(m)]
    return panels


def build(catalog: Catalog) -> Json:
    panels = [open_alerts_panel()]
    names = catalog.profile_names()
    blocks = profile_blocks(names)
    for name in names:
        base = blocks[name] * PROFILE_BLOCK
        members = profile_panels(catalog.profile(name))
        if len(members) >= PROFILE_BLOCK:
            raise ValueError(f"profile {name}: {len(members)} panels do not fit a block of {PROFILE_BLOCK} ids")
        for number, panel in enumerate(members, start=1):
            panel["id"] = base + number
        # Every row open: the console embeds this dashboard for one device (var-device), whose
        # profile's row must show its charts, and Grafana cannot open a row from the URL.
        panels += row(f"Profile {name}", members, collapsed=False, row_id=base)
    description = ("Readings of the selected devices from InfluxDB (raw tier), a row per device profile with the "
                   "profile's limits, generated from config/sensors.json by deploy/grafana/generate: edit the "
                   "catalog and regenerate, do not edit this file.")
    return dashboard("moby-sensors", "MOBY sensors", description, panels, "now-6h", "10s", variables(),
                     annotations())
