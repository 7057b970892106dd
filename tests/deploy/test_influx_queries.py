"""Every InfluxQL query of every dashboard (panel targets, the device variable, annotations),
with Grafana's macros expanded, runs against the real InfluxDB that the real moby-server filled
with readings and alert events, and returns data; some answers are checked for their values."""

from __future__ import annotations

import pytest

import moby_schema
import seed
from dashboards import NAMES, expand_influx, load, queries, regex_escape

ONE_DEVICE = [regex_escape(d) for d in (seed.HOT, seed.WARM, seed.FIXED, seed.NORMAL, seed.SILENT)]
DEVICE_FORMS = {
    # A single device has only some kinds of data (one is never warned): a query passes when it
    # returns series for one of them, and must run without error for each it is tried with.
    "one device": ONE_DEVICE,
    "several devices": ["(" + "|".join(regex_escape(d) for d in (seed.WARM, seed.HOT, seed.FIXED)) + ")"],
    "all devices": [".*"],  # the variable's allValue
}
INFLUX_QUERIES = [(where, query) for name in NAMES for where, query in queries(load(name), "influxdb")]


def test_the_dashboards_have_influxql_queries():
    assert len(INFLUX_QUERIES) >= 20


@pytest.mark.parametrize("form", DEVICE_FORMS)
def test_every_query_returns_series(pipeline, form):
    failures = []
    for where, query in INFLUX_QUERIES:
        try:
            if not any(pipeline.influx.series(expand_influx(query, device)) for device in DEVICE_FORMS[form]):
                failures.append(f"{where}: no series\n    {expand_influx(query, DEVICE_FORMS[form][0])}")
        except AssertionError as error:
            failures.append(f"{where}: {error}")
    assert not failures, f"{len(failures)} of {len(INFLUX_QUERIES)} queries failed:\n" + "\n".join(failures)


def run(pipeline, board: str, title: str, device: str = ".*") -> dict[str, list]:
    """The expanded queries of one panel: alias or refId -> series."""
    panel = next(p for p in load(board)["panels"] if p["title"] == title)
    return {t.get("alias") or t["refId"]: pipeline.influx.series(expand_influx(t["query"], device))
            for t in panel["targets"]}


def scalar(series: list) -> float:
    return series[0]["values"][-1][1] if series else 0


def test_devices_by_status_counts_each_device_once(pipeline):
    counts = {alias: scalar(series) for alias, series in run(pipeline, "fleet", "Devices by status").items()}
    # dep-fixed is back to normal; the silent device last reported 20 minutes ago.
    assert counts == {"Normal": 3, "Warning": 1, "Critical": 1, "Silent": 1}


def test_the_device_variable_lists_every_device(pipeline):
    query = load("sensors")["templating"]["list"][0]["query"]
    values = {row[1] for s in pipeline.influx.series(query) for row in s["values"]}
    assert values == set(seed.REPORTING) | {seed.SILENT}


def test_open_alerts_are_the_unresolved_ones(pipeline):
    (series,) = run(pipeline, "sensors", "Open alerts").values()
    rows = {s["tags"]["device_id"]: dict(zip(s["columns"], s["values"][0])) for s in series}
    assert set(rows) == {seed.WARM, seed.HOT}
    assert rows[seed.WARM]["status"] == "acknowledged" and rows[seed.WARM]["severity"] == "warning"
    assert rows[seed.HOT]["status"] == "pending" and rows[seed.HOT]["severity"] == "critical"
    assert rows[seed.HOT]["alert_id"] == pipeline.seed.alerts[seed.HOT]


def test_the_device_filter_selects_only_the_chosen_devices(pipeline):
    for form, devices in DEVICE_FORMS.items():
        series = run(pipeline, "sensors", "Anomaly score", devices[0])["$tag_device_id"]
        shown = {s["tags"]["device_id"] for s in series}
        wanted = {"one device": {seed.HOT}, "several devices": {seed.WARM, seed.HOT, seed.FIXED},
                  "all devices": set(seed.REPORTING) | {seed.SILENT}}[form]
        assert shown == wanted, form


def test_worst_score_per_device_reads_the_downsampled_maxima(pipeline):
    (series,) = run(pipeline, "fleet", "Worst anomaly score per device").values()
    worst = {s["tags"]["device_id"]: s["values"][0][1] for s in series}
    assert worst[seed.HOT] == pytest.approx(6.25, abs=0.05)
    assert worst[seed.WARM] == pytest.approx(4.0, abs=0.05)
    assert worst[seed.NORMAL] < 1


def test_alerts_raised_per_hour_counts_raises_by_severity(pipeline):
    (series,) = run(pipeline, "fleet", "Alerts raised per hour").values()
    totals = {s["tags"]["severity"]: sum(v[1] for v in s["values"]) for s in series}
    assert totals == {"critical": 2, "warning": 1}


def test_the_schema_module_is_what_the_server_creates(pipeline):
    """tests/deploy/moby_schema.py (used by the seed and by bench/dashboard_queries) against the
    retention policies and continuous query the real moby-server created."""
    def hours(duration: str) -> str:
        number, unit = int(duration[:-1]), duration[-1]
        return f"{number * {'h': 1, 'd': 24, 'w': 168}[unit]}h0m0s"

    policies = {row[0]: row for s in pipeline.influx.series("SHOW RETENTION POLICIES") for row in s["values"]}
    assert policies[moby_schema.RAW_RP][1] == hours(moby_schema.RAW_RETENTION)
    assert policies[moby_schema.RAW_RP][4] is True  # the default policy
    assert policies[moby_schema.LONG_TERM_RP][1] == hours(moby_schema.LONG_TERM_RETENTION)
    assert policies[moby_schema.LONG_TERM_RP][4] is False
    shown = {row[0]: row[1] for s in pipeline.influx.series("SHOW CONTINUOUS QUERIES")
             if s["name"] == moby_schema.DATABASE for row in s["values"]}

    def normalized(text: str) -> str:
        return " ".join(text.replace('"', "").split()).lower()

    assert normalized(shown[moby_schema.CONTINUOUS_QUERY]) == normalized(moby_schema.CREATE_CONTINUOUS_QUERY)
