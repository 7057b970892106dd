"""The Fleet dashboard (uid moby-fleet): every device at a glance, at the locations and lines its
variables select. History panels read the long-term tier (1-minute mean/min/max per device, kept
a year; the continuous query keeps every tag) so a month costs what an hour of raw readings
would; the status counts read the raw tier, which is current to the second."""

from __future__ import annotations

from typing import Callable

from .catalog import DEFAULT_PROFILE, SCORE, Catalog
from .grafana import Json, by_name, by_ref, dashboard, fixed_color, influx_target, stat, table, timeseries
from .sensors import PLACE, place_variables, scope_variable

LONG_TERM = '"long_term"."sensors"'
REPORTING_WINDOW = "1m"  # a device is reporting when its latest reading is at most this old
# Alert events carry no location or line: the hidden variable `scope` lists the devices there.
ALERTS = '"device_id" =~ /^$scope$/'


def latest_scores(where: str, profiles: list[str] | None = None) -> str:
    """Each device's latest score at the selected locations and lines; with `profiles`, among
    the points of those profiles only (default also takes points stored without a profile tag)."""
    if profiles:
        names = [*profiles, ""] if DEFAULT_PROFILE in profiles else profiles
        where += " AND (" + " OR ".join(f"\"profile\" = '{name}'" for name in names) + ")"
    return f'SELECT last("{SCORE}") AS "score" FROM "sensors" WHERE {where} AND {PLACE} GROUP BY "device_id"'


def score_groups(catalog: Catalog) -> list[tuple[dict[str, float], list[str] | None]]:
    """Score limits and the profiles judged by them: a single group (profiles None: every point)
    while no profile overrides the score's limits."""
    groups: dict[tuple[float, float], list[str]] = {}
    for name in catalog.profile_names():
        score = catalog.profile(name).score
        groups.setdefault((score["warning"], score["critical"]), []).append(name)
    if len(groups) == 1:
        return [(catalog.score, None)]
    return [({"warning": warning, "critical": critical}, names) for (warning, critical), names in groups.items()]


def count_scores(catalog: Catalog, condition: Callable[[dict[str, float]], str]) -> str:
    """How many reporting devices have a latest score meeting `condition` for their profile's
    limits: a subquery per group of profiles sharing limits, unioned by the outer count (in the
    minute after a device changed to a profile with other limits it may count in both)."""
    recent = f"time > now() - {REPORTING_WINDOW}"
    groups = score_groups(catalog)
    if len(groups) == 1:
        return f'SELECT count("score") FROM ({latest_scores(recent)}) WHERE {condition(groups[0][0])}'
    sources = ", ".join(f'(SELECT "score" FROM ({latest_scores(recent, names)}) WHERE {condition(limits)})'
                        for limits, names in groups)
    return f'SELECT count("score") FROM {sources}'


def silent_query() -> str:
    """Devices seen in the time range but not within the reporting window. InfluxQL has no set
    difference, and an outer `time <` condition would narrow the subquery's range too, so both
    sets are unioned and a device found once (only in the range) is silent."""
    seen = latest_scores("$timeFilter")
    reporting = latest_scores(f"time > now() - {REPORTING_WINDOW}")
    per_device = f'SELECT count("score") AS "sets" FROM ({seen}), ({reporting}) GROUP BY "device_id"'
    return f'SELECT count("sets") FROM ({per_device}) WHERE "sets" = 1'


def status_panel(catalog: Catalog) -> Json:
    groups = score_groups(catalog)
    queries = [
        ("A", "Normal", "green", count_scores(catalog, lambda s: f'"score" < {s["warning"]}')),
        ("B", "Warning", "orange",
         count_scores(catalog, lambda s: f'"score" >= {s["warning"]} AND "score" < {s["critical"]}')),
        ("C", "Critical", "red", count_scores(catalog, lambda s: f'"score" >= {s["critical"]}')),
        ("D", "Silent", "text", silent_query()),
    ]
    targets = [influx_target(ref, query, alias) for ref, alias, _, query in queries]
    overrides = [by_ref(ref, [fixed_color(color)]) for ref, _, color, _ in queries]
    limits = "; ".join(("" if names is None else f"{', '.join(names)}: ")
                       + f"warning ≥ {score['warning']}, critical ≥ {score['critical']}" for score, names in groups)
    description = (f"Devices whose latest reading is at most {REPORTING_WINDOW} old, by that reading's anomaly "
                   f"score against their profile's limits ({limits}; per-metric limits show in alerts), and "
                   f"silent devices: seen in the time range but not within {REPORTING_WINDOW}. Raw tier.")
    return stat("Devices by status", targets, description, overrides=overrides, height=8)


def reporting_panel() -> Json:
    inner = (f'SELECT last("mean_{SCORE}") AS "score" FROM {LONG_TERM} WHERE $timeFilter AND {PLACE} '
             'GROUP BY time($__interval), "device_id"')
    query = f'SELECT count("score") AS "devices" FROM ({inner}) WHERE $timeFilter GROUP BY time($__interval) fill(0)'
    description = "Devices with at least one reading per interval (long-term tier, 1-minute resolution)."
    return timeseries("Reporting devices", [influx_target("A", query, "reporting devices")], description,
                      "short", interval="1m", min_value=0)


def score_history_panel(catalog: Catalog) -> Json:
    query = (f'SELECT max("max_{SCORE}") AS "worst", mean("mean_{SCORE}") AS "mean" FROM {LONG_TERM} '
             f"WHERE $timeFilter AND {PLACE} GROUP BY time($__interval) fill(none)")
    description = ("Worst and mean anomaly score of the selected devices per interval (long-term tier); lines at "
                   "the default profile's score limits.")
    return timeseries("Fleet anomaly score", [influx_target("A", query, "$col")], description,
                      catalog.unit(SCORE), catalog.steps(SCORE), "line+area", interval="1m")


def worst_per_device_panel(catalog: Catalog) -> Json:
    query = (f'SELECT max("max_{SCORE}") AS "worst score" FROM {LONG_TERM} WHERE $timeFilter AND {PLACE} '
             'GROUP BY "device_id"')
    organize = {"id": "organize", "options": {"excludeByName": {"Time": True}, "indexByName": {},
                                              "renameByName": {"device_id": "device"}}}
    overrides = [by_name("worst score", [{"id": "custom.cellOptions",
                                          "value": {"mode": "basic", "type": "color-background"}}])]
    description = ("Each device's worst anomaly score in the time range (long-term tier), worst first; "
                   "coloured at the default profile's score limits.")
    return table("Worst anomaly score per device", [influx_target("A", query, table=True)], description,
                 overrides, catalog.steps(SCORE), catalog.unit(SCORE), sort_by="worst score",
                 transformations=[organize])


def alerts_per_hour_panel() -> Json:
    query = (f'SELECT count("alert_id") FROM "alerts" WHERE $timeFilter AND {ALERTS} '
             "AND \"event\" = 'alert.raised' GROUP BY time(1h), \"severity\" fill(0)")
    overrides = [by_name(name, [fixed_color(color)]) for name, color in (("critical", "red"), ("warning", "orange"))]
    description = ("Alerts raised per hour by the selected devices, by their severity when raised (escalations are "
                   "not counted again).")
    return timeseries("Alerts raised per hour", [influx_target("A", query, "$tag_severity")], description,
                      "short", overrides=overrides, draw="bars", fill=80, stacked=True, width=24, min_value=0)


def build(catalog: Catalog) -> Json:
    panels = [status_panel(catalog), reporting_panel(), score_history_panel(catalog),
              worst_per_device_panel(catalog), alerts_per_hour_panel()]
    description = ("The fleet from InfluxDB at the selected locations and lines: status now (raw tier) and history "
                   "(long-term tier, filled by a continuous query), generated by deploy/grafana/generate: do not "
                   "edit this file.")
    return dashboard("moby-fleet", "MOBY fleet", description, panels, "now-24h", "30s",
                     [*place_variables(), scope_variable()])
