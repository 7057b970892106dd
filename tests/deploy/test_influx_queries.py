"""Every InfluxQL query of every dashboard (panel targets, template variables, annotations),
with Grafana's macros and variables expanded, runs against the real InfluxDB that the real
moby-server filled with readings and alert events, and returns data; some answers are checked
for their values. Variables: device, location and line in single, several and All (`.*`)
forms; the hidden `scope` (All without an allValue) is what Grafana makes of it: its own query
run with the location and line of the form, every device it lists joined into `(a|b|...)`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import moby_schema
import seed
from dashboards import (ALL, CATALOG, GRAFANA, NAMES, PROFILES, expand_influx, load, panels, queries, regex_escape,
                        several, variable)

E = regex_escape
DEVICES = [seed.HOT, seed.WARM, seed.FIXED, seed.NORMAL, seed.SILENT, seed.COLD, seed.PRESS]
# Each form lists variable settings; a query passes a form when it returns series for one of
# them (one device or one place has only some kinds of data) and runs without error for each.
FORMS: dict[str, list[dict[str, str]]] = {
    "one device": [{"device": E(d)} for d in DEVICES],
    "several devices": [{"device": several(seed.WARM, seed.HOT, seed.FIXED, seed.COLD, seed.PRESS)}],
    "all devices, locations and lines": [{}],
    "one location": [{"location": E(seed.PLANT_A)}, {"location": E(seed.PLANT_B)}],
    "several locations": [{"location": several(seed.PLANT_A, seed.PLANT_B)}],
    "one line": [{"line": E(seed.LINE_1)}, {"line": E(seed.LINE_2)}],
    "location, line and device": [{"location": E(seed.STANDS[d][0]), "line": E(seed.STANDS[d][1]), "device": E(d)}
                                  for d in (seed.COLD, seed.WARM, seed.SILENT, seed.PRESS, seed.HOT)],
}
INFLUX_QUERIES = [(name, where, query) for name in NAMES for where, query in queries(load(name), "influxdb")]


def listed(pipeline, query: str, **values: str) -> list[str]:
    """The values a query variable lists (SHOW TAG VALUES answers key, value rows)."""
    return sorted({row[1] for s in pipeline.influx.series(expand_influx(query, **values)) for row in s["values"]})


SCOPES: dict[tuple[str, str, str], list[str]] = {}


def settings(pipeline, board: str, form: dict[str, str]) -> dict[str, str]:
    """A form's variables for a board, with `scope` as Grafana computes it."""
    values = {"device": ALL, "location": ALL, "line": ALL, **form}
    key = (board, values["location"], values["line"])
    if key not in SCOPES:
        SCOPES[key] = listed(pipeline, variable(load(board), "scope")["query"], location=key[1], line=key[2])
    assert SCOPES[key], f"{board}: no device at {form}"
    return {**values, "scope": several(*SCOPES[key])}


def test_the_dashboards_have_influxql_queries():
    assert len(INFLUX_QUERIES) >= 40


@pytest.mark.parametrize("form", FORMS)
def test_every_query_returns_series(pipeline, form):
    failures = []
    for name, where, query in INFLUX_QUERIES:
        tried = [expand_influx(query, **settings(pipeline, name, values)) for values in FORMS[form]]
        try:
            if not any(pipeline.influx.series(text) for text in tried):
                failures.append(f"{where}: no series\n    {tried[0]}")
        except AssertionError as error:
            failures.append(f"{where}: {error}")
    assert not failures, f"{len(failures)} of {len(INFLUX_QUERIES)} queries failed:\n" + "\n".join(failures)


def run(pipeline, board: str, title: str, device: str = ALL, board_json: dict | None = None,
        time_filter: str = "time >= now() - 1h", **form: str) -> dict[str, list]:
    """The expanded queries of one panel: alias or refId -> series."""
    board_json = board_json or load(board)
    panel = next(p for p in panels(board_json) if p["title"] == title)
    values = settings(pipeline, board, {"device": device, **form})
    return {t.get("alias") or t["refId"]: pipeline.influx.series(expand_influx(t["query"], time_filter=time_filter,
                                                                              **values))
            for t in panel["targets"]}


def scalar(series: list) -> float:
    return series[0]["values"][-1][1] if series else 0


def status_counts(pipeline, board_json: dict | None = None, **form: str) -> dict[str, float]:
    found = run(pipeline, "fleet", "Devices by status", board_json=board_json, **form)
    return {alias: scalar(series) for alias, series in found.items()}


def test_devices_by_status_counts_each_device_once(pipeline):
    # dep-fixed is back to normal; the silent device last reported 20 minutes ago; dep-cold and
    # dep-press are normal by their profiles' limits (warning by the default profile's).
    assert status_counts(pipeline) == {"Normal": 5, "Warning": 1, "Critical": 1, "Silent": 1}


def test_devices_by_status_at_a_location(pipeline):
    assert status_counts(pipeline, location=E(seed.PLANT_A)) == {"Normal": 1, "Warning": 1, "Critical": 0, "Silent": 1}
    assert status_counts(pipeline, location=E(seed.PLANT_B), line=E(seed.LINE_2)) == \
        {"Normal": 1, "Warning": 0, "Critical": 1, "Silent": 0}


def test_devices_by_status_judges_each_device_by_its_profiles_score_limits(pipeline, tmp_path):
    """A profile overriding the score's limits: the status counts compare each device's score
    with its own profile's limits (press at about 1.7 is a warning under 1.0 / 2.0)."""
    catalog = json.loads(json.dumps(CATALOG))
    catalog["profiles"]["press"]["score"] = {"warning": 1.0, "critical": 2.0}
    path = tmp_path / "sensors.json"
    path.write_text(json.dumps(catalog))
    out = tmp_path / "out"
    subprocess.run([sys.executable, str(GRAFANA / "generate"), "--catalog", str(path), "--out", str(out)],
                   check=True, capture_output=True)
    board = json.loads((out / "fleet.json").read_text())
    assert status_counts(pipeline, board) == {"Normal": 4, "Warning": 2, "Critical": 1, "Silent": 1}
    assert status_counts(pipeline, board, location=E(seed.PLANT_B)) == \
        {"Normal": 0, "Warning": 1, "Critical": 1, "Silent": 0}


def test_the_variables_list_locations_lines_and_the_devices_there(pipeline):
    for name in ("sensors", "fleet"):
        board = load(name)
        assert listed(pipeline, variable(board, "location")["query"]) == [seed.PLANT_A, seed.PLANT_B]
        line = variable(board, "line")["query"]
        assert listed(pipeline, line) == [seed.LINE_1, seed.LINE_2]
        assert listed(pipeline, line, location=E(seed.PLANT_B)) == [seed.LINE_2]
        scope = variable(board, "scope")["query"]
        assert listed(pipeline, scope) == sorted(seed.REPORTING + [seed.SILENT]), "All matches untagged devices"
        assert listed(pipeline, scope, location=E(seed.PLANT_A)) == sorted([seed.COLD, seed.WARM, seed.SILENT])
        assert listed(pipeline, scope, location=E(seed.PLANT_B), line=E(seed.LINE_2)) == sorted([seed.HOT, seed.PRESS])
        assert listed(pipeline, scope, location=E(seed.PLANT_B), line=E(seed.LINE_1)) == []
    device = variable(load("sensors"), "device")["query"]
    assert listed(pipeline, device) == sorted(seed.REPORTING + [seed.SILENT])
    assert listed(pipeline, device, line=E(seed.LINE_1)) == sorted([seed.COLD, seed.WARM, seed.SILENT])


def test_open_alerts_are_the_unresolved_ones(pipeline):
    (series,) = run(pipeline, "sensors", "Open alerts").values()
    rows = {s["tags"]["device_id"]: dict(zip(s["columns"], s["values"][0])) for s in series}
    assert set(rows) == {seed.WARM, seed.HOT}
    assert rows[seed.WARM]["status"] == "acknowledged" and rows[seed.WARM]["severity"] == "warning"
    assert rows[seed.HOT]["status"] == "pending" and rows[seed.HOT]["severity"] == "critical"
    assert rows[seed.HOT]["alert_id"] == pipeline.seed.alerts[seed.HOT]
    (series,) = run(pipeline, "sensors", "Open alerts", location=E(seed.PLANT_B)).values()
    assert {s["tags"]["device_id"] for s in series} == {seed.HOT}, "alerts follow the location through scope"


def score_devices(pipeline, profile: str, device: str = ALL, **form: str) -> set[str]:
    title = "Anomaly score" if profile == "default" else f"Anomaly score · {profile}"
    series = run(pipeline, "sensors", title, device, **form)["$tag_device_id"]
    return {s["tags"]["device_id"] for s in series}


def test_the_device_filter_selects_only_the_chosen_devices(pipeline):
    assert score_devices(pipeline, "default", E(seed.HOT)) == {seed.HOT}
    assert score_devices(pipeline, "default", several(seed.WARM, seed.HOT, seed.FIXED)) == {seed.WARM, seed.HOT,
                                                                                            seed.FIXED}
    assert score_devices(pipeline, "default") == set(seed.REPORTING + [seed.SILENT]) - set(seed.PROFILE)


def test_each_profile_row_draws_only_its_profiles_devices(pipeline):
    for profile in PROFILES:
        wanted = {d for d in seed.REPORTING + [seed.SILENT] if seed.PROFILE.get(d, "default") == profile}
        assert wanted, f"the seed has no device of profile {profile}"
        assert score_devices(pipeline, profile) == wanted, profile


def test_the_location_and_line_filters_select_the_devices_there(pipeline):
    assert score_devices(pipeline, "default", location=E(seed.PLANT_A)) == {seed.WARM, seed.SILENT}
    assert score_devices(pipeline, "default", location=E(seed.PLANT_B), line=E(seed.LINE_2)) == {seed.HOT}
    assert score_devices(pipeline, "default", location=several(seed.PLANT_A, seed.PLANT_B)) == \
        {seed.WARM, seed.SILENT, seed.HOT}
    assert score_devices(pipeline, "cold_room", location=E(seed.PLANT_A), line=E(seed.LINE_1)) == {seed.COLD}
    assert score_devices(pipeline, "cold_room", location=E(seed.PLANT_B)) == set()
    assert score_devices(pipeline, "press", line=E(seed.LINE_2)) == {seed.PRESS}


def test_points_stored_before_profiles_are_in_the_default_row(pipeline):
    """A point without profile, location and line tags (servers before issue 16): in the
    default row while location and line are All, in no profile's row, not at a location."""
    old = f"time >= now() - {seed.LEGACY_MINUTES_AGO + 5}m AND time < now() - {seed.LEGACY_MINUTES_AGO - 5}m"
    silent = E(seed.SILENT)
    assert score_devices_at(pipeline, "Anomaly score", silent, old) == {seed.SILENT}
    assert score_devices_at(pipeline, "Anomaly score · cold_room", silent, old) == set()
    assert score_devices_at(pipeline, "Anomaly score", silent, old, location=E(seed.PLANT_A)) == set()


def score_devices_at(pipeline, title: str, device: str, time_filter: str, **form: str) -> set[str]:
    series = run(pipeline, "sensors", title, device, time_filter=time_filter, **form)["$tag_device_id"]
    return {s["tags"]["device_id"] for s in series}


def test_worst_score_per_device_reads_the_downsampled_maxima(pipeline):
    (series,) = run(pipeline, "fleet", "Worst anomaly score per device").values()
    worst = {s["tags"]["device_id"]: s["values"][0][1] for s in series}
    assert worst[seed.HOT] == pytest.approx(6.25, abs=0.05)
    assert worst[seed.WARM] == pytest.approx(4.0, abs=0.05)
    assert worst[seed.NORMAL] < 1
    assert worst[seed.COLD] < 1.5 and worst[seed.PRESS] < 2, "scored by their profiles"
    (series,) = run(pipeline, "fleet", "Worst anomaly score per device", location=E(seed.PLANT_A)).values()
    assert {s["tags"]["device_id"] for s in series} == {seed.COLD, seed.WARM, seed.SILENT}


def test_alerts_raised_per_hour_counts_raises_by_severity(pipeline):
    def totals(**form: str) -> dict[str, int]:
        (series,) = run(pipeline, "fleet", "Alerts raised per hour", **form).values()
        return {s["tags"]["severity"]: sum(v[1] for v in s["values"]) for s in series}

    assert totals() == {"critical": 2, "warning": 1}
    assert totals(location=E(seed.PLANT_B)) == {"critical": 1}
    assert totals(location=E(seed.PLANT_A), line=E(seed.LINE_1)) == {"warning": 1}


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
