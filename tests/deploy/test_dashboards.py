"""The generated dashboards against the catalog and Grafana's conventions: every unit is the
catalog unit's Grafana unit, every threshold is a limit of the profile the panel draws (the
catalog's default entry with the profile's overrides, resolved here) with the right colour on
the right side, a row per profile, queries have the shape that keeps them cheap and filter by
the variables, layout and references are sound."""

from __future__ import annotations

import re

import pytest

from dashboards import CATALOG, NAMES, PROFILES, effective_config, load, panels, resolved_profile, row_of

# The catalog unit -> Grafana unit id table of the issue (Grafana has no mm/s; °/s is rotdegs).
EXPECTED_UNITS = {"°C": "celsius", "%": "percent", "mm/s": "suffix: mm/s", "dB": "dB", "m/s²": "accMS2",
                  "°/s": "rotdegs", "cycles": "short"}
COLOR = {"warning": "orange", "critical": "red"}
SCORE = "anomaly_score"
FIRST_FIELD = re.compile(r'^SELECT\s+(\w+)\((?:(\w+)\()?"(\w+)"')
SENSORS_FILTER = '"device_id" =~ /^$device$/ AND "location" =~ /^$location$/ AND "line" =~ /^$line$/'
PLACE_FILTER = '"location" =~ /^$location$/ AND "line" =~ /^$line$/'
SERIES_WHERE = f'WHERE $timeFilter AND {SENSORS_FILTER} AND '
SERIES_GROUP = 'GROUP BY time($__interval), "device_id" fill(none)'
PROFILE_CONDITION = re.compile(r"\"profile\" = '([A-Za-z0-9_-]*)'")


def profile_of(query: str) -> str:
    """The profile whose devices a query draws: its first profile condition (default's also
    takes points without the tag, `"profile" = ''`); a query without one draws every device
    and is judged by the default profile (the fleet's history)."""
    found = PROFILE_CONDITION.findall(query)
    return found[0] if found else "default"


def target_metric(query: str) -> tuple[str | None, bool]:
    """The catalog metric a query draws (from its first aggregate, long-term prefixes removed)
    and whether it draws it as a rate."""
    match = FIRST_FIELD.match(query)
    if not match:
        return None, False
    field = re.sub(r"^(mean|min|max)_", "", match.group(3))
    known = field == SCORE or field in CATALOG["metrics"]
    return (field if known else None), match.group(1) == "non_negative_derivative"


def limits(metric: str, profile: str = "default") -> dict[str, dict[str, float]]:
    resolved = resolved_profile(profile)
    if metric == SCORE:
        return {level: {"high": resolved["score"][level]} for level in COLOR}
    return {level: resolved["metrics"][metric][level] for level in COLOR if level in resolved["metrics"][metric]}


def expected_unit(metric: str, rate: bool) -> str:
    if rate:
        return "cpm"
    if metric == SCORE:
        return "none"
    return EXPECTED_UNITS[CATALOG["metrics"][metric]["unit"]]


def color_at(steps: list[dict], x: float) -> str:
    color = steps[0]["color"]
    for step in steps[1:]:
        if x >= step["value"]:
            color = step["color"]
    return color


def check_steps(where: str, steps: list[dict], metric: str, profile: str = "default") -> None:
    assert steps[0]["value"] is None, f"{where}: the first step is the base (value null)"
    values = [step["value"] for step in steps[1:]]
    assert values == sorted(values), f"{where}: steps must rise"
    wanted = sorted({v for limit in limits(metric, profile).values() for v in limit.values()})
    assert values == wanted, f"{where}: threshold values {values} are not profile {profile}'s limits {wanted}"
    for level, limit in limits(metric, profile).items():
        if "high" in limit:
            assert color_at(steps, limit["high"]) == COLOR[level], f"{where}: {level} high {limit['high']}"
        if "low" in limit:
            below = limit["low"] - 1e-9 * max(1.0, abs(limit["low"]))
            assert color_at(steps, below) == COLOR[level], f"{where}: below the {level} low {limit['low']}"
            assert color_at(steps, limit["low"]) != COLOR[level], f"{where}: at the {level} low {limit['low']}"
    normal = 0.0 if metric == SCORE else resolved_profile(profile)["metrics"][metric]["nominal"]
    assert color_at(steps, normal) == "green", f"{where}: profile {profile}'s nominal value {normal} is not green"


def base_only(where: str, config: dict) -> None:
    steps = config.get("thresholds", {}).get("steps", [])
    assert len(steps) <= 1, f"{where}: thresholds {steps} that are not catalog limits"


@pytest.mark.parametrize("name", ["sensors", "fleet"])
def test_units_and_thresholds_are_the_catalogs(name):
    checked = 0
    for panel in panels(load(name)):
        for override in panel["fieldConfig"]["overrides"]:
            if override["matcher"]["id"] != "byFrameRefID":
                ids = {prop["id"] for prop in override["properties"]}
                assert not ids & {"unit", "thresholds"}, f"{panel['title']}: unit/thresholds only per query"
        units: dict[str, list] = {}
        for target in panel["targets"]:
            where = f"{name} '{panel['title']}' {target['refId']}"
            config = effective_config(panel, target["refId"])
            metric, rate = target_metric(target["query"])
            if metric is None or rate:
                base_only(where, config)
            else:
                check_steps(where, config["thresholds"]["steps"], metric, profile_of(target["query"]))
                units.setdefault(config["unit"], []).append(config["thresholds"]["steps"])
                if panel["type"] == "timeseries":
                    assert config["custom"]["thresholdsStyle"]["mode"] in ("line+area", "dashed"), where
            if metric is not None:
                assert config["unit"] == expected_unit(metric, rate), f"{where}: unit {config['unit']}"
                checked += 1
        if panel["type"] == "timeseries":
            for unit, step_sets in units.items():  # Grafana draws one set of lines per scale
                assert all(s == step_sets[0] for s in step_sets), f"{panel['title']}: one unit ({unit}), two limits"
    assert checked > 0


def test_the_pipeline_has_no_thresholds_of_its_own():
    for panel in panels(load("pipeline")):
        for target in panel["targets"]:
            base_only(f"pipeline '{panel['title']}'", effective_config(panel, target["refId"]))


def test_the_thresholds_of_a_profile_that_overrides_a_limit_are_its_own():
    """The check above is not vacuous: some profile panel's steps differ from default's."""
    board = load("sensors")
    overriding = [(panel, target) for panel in panels(board) for target in panel["targets"]
                  if profile_of(target["query"]) != "default" and target_metric(target["query"])[0]
                  and limits(target_metric(target["query"])[0], profile_of(target["query"]))
                  != limits(target_metric(target["query"])[0])]
    wanted = {m for p in CATALOG.get("profiles", {}).values() for m, o in p.get("metrics", {}).items()
              if "warning" in o or "critical" in o}
    assert {target_metric(t["query"])[0] for _, t in overriding} == wanted


def test_sensors_has_a_row_per_profile_default_first_every_row_open():
    # Open: the console embeds the dashboard for one device, whose profile's row must show.
    board = load("sensors")
    rows = [p for p in board["panels"] if p["type"] == "row"]
    assert [r["title"] for r in rows] == [f"Profile {name}" for name in PROFILES]
    assert [r["collapsed"] for r in rows] == [False] * len(rows)
    assert all(r["panels"] == [] for r in rows), "an open row's panels follow it"
    rows_of = row_of(board)
    for panel in panels(board):
        if panel["title"] == "Open alerts":
            assert panel["id"] not in rows_of, "the open alerts are above the rows, for every profile"
            continue
        profile = rows_of[panel["id"]].removeprefix("Profile ")
        for target in panel["targets"]:
            assert profile_of(target["query"]) == profile, f"{panel['title']} {target['refId']} in {profile}'s row"
            assert set(PROFILE_CONDITION.findall(target["query"])) == ({"default", ""} if profile == "default"
                                                                       else {profile}), target["query"]
    for name in PROFILES:
        drawn = {target_metric(t["query"])[0] for p in panels(board) for t in p["targets"]
                 if rows_of.get(p["id"]) == f"Profile {name}"}
        assert set(CATALOG["metrics"]) | {SCORE} <= drawn, f"profile {name} does not draw {set(CATALOG['metrics']) - drawn}"


def test_sensor_series_queries_are_per_interval_and_device():
    board = load("sensors")
    series = [t for p in panels(board) for t in p["targets"] if t["resultFormat"] == "time_series"]
    assert len(series) >= 12 * len(PROFILES)
    for target in series:
        assert SERIES_WHERE in target["query"] and target["query"].endswith(SERIES_GROUP), target["query"]
    cycle = next(t["query"] for p in panels(board) for t in p["targets"] if "cycle_count" in t["query"])
    assert 'non_negative_derivative(last("cycle_count"), 1m)' in cycle


@pytest.mark.parametrize("name", ["sensors", "fleet"])
def test_every_query_filters_by_the_variables(name):
    """Points of sensors by location and line (and device, on Sensors); alert events, which
    carry neither, by the hidden scope: the devices at the selected locations and lines."""
    board = load(name)
    texts = [t["query"] for p in panels(board) for t in p["targets"]]
    texts += [a["target"]["query"] for a in board["annotations"]["list"] if "target" in a]
    sources = 0
    for text in texts:
        matches = list(re.finditer(r'FROM ("alerts"|"sensors"|"long_term"\."sensors") WHERE (.*?)(?= GROUP BY|$)', text))
        assert len(matches) == text.count('FROM "'), f"a measurement read without a WHERE: {text}"
        for match in matches:
            measurement, where = match.groups()
            sources += 1
            if measurement == '"alerts"':
                assert '"device_id" =~ /^$scope$/' in where, text
                if name == "sensors":
                    assert '"device_id" =~ /^$device$/' in where, text
            else:
                assert (SENSORS_FILTER if name == "sensors" else PLACE_FILTER) in where, text
    assert sources >= len(texts)


@pytest.mark.parametrize("name", ["sensors", "fleet"])
def test_location_line_and_scope_variables(name):
    variables = {v["name"]: v for v in load(name)["templating"]["list"]}
    assert list(variables) == (["location", "line", "device", "scope"] if name == "sensors"
                               else ["location", "line", "scope"])
    devices_there = ('SHOW TAG VALUES FROM "sensors" WITH KEY = "device_id" '
                     'WHERE "location" =~ /^$location$/ AND "line" =~ /^$line$/')
    queries = {"location": 'SHOW TAG VALUES FROM "sensors" WITH KEY = "location"',
               "line": 'SHOW TAG VALUES FROM "sensors" WITH KEY = "line" WHERE "location" =~ /^$location$/',
               "device": devices_there, "scope": devices_there}
    for key, variable in variables.items():
        assert variable["query"] == variable["definition"] == queries[key]
        assert variable["multi"] and variable["includeAll"] and variable["current"]["value"] == ["$__all"]
        if key == "scope":
            assert variable["allValue"] is None and variable["hide"] == 2 and variable["refresh"] == 2
        else:
            assert variable["allValue"] == ".*" and variable["hide"] == 0


def test_sensors_has_alert_annotations_and_open_alerts():
    board = load("sensors")
    annotations = [a for a in board["annotations"]["list"] if a.get("datasource", {}).get("type") == "influxdb"]
    assert annotations and all('FROM "alerts"' in a["target"]["query"] for a in annotations)
    assert any(p["type"] == "table" and p["title"] == "Open alerts" for p in panels(board))


def test_fleet_reads_the_long_term_tier_for_history():
    board = load("fleet")
    history = [t["query"] for p in panels(board) for t in p["targets"] if '"long_term"."sensors"' in t["query"]]
    assert len(history) >= 3
    titles = {p["title"] for p in panels(board)}
    assert {"Devices by status", "Worst anomaly score per device", "Alerts raised per hour"} <= titles


def test_pipeline_covers_the_metrics_of_the_issue():
    exprs = " ".join(t["expr"] for p in panels(load("pipeline")) for t in p["targets"])
    for counter in ("moby_mqtt_messages_received_total", "moby_readings_stored_total",
                    "moby_messages_rejected_total", "moby_dead_letters_published_total"):
        assert f"rate({counter}{{" in exprs and "[$__rate_interval]" in exprs, counter
    for name in ("moby_spool_readings", "histogram_quantile(0.99, sum by (instance, le) (rate(moby_influx_write_seconds_bucket",
                 "moby_influx_batch_lines_bucket", "moby_mqtt_connects_total", "moby_websocket_clients",
                 "process_cpu_seconds_total", "process_resident_memory_bytes"):
        assert name in exprs, name


@pytest.mark.parametrize("name", NAMES)
def test_grafana_conventions(name):
    board = load(name)
    assert board["uid"] == f"moby-{name}" and board["schemaVersion"] == 39
    assert board["time"] == {"from": {"sensors": "now-6h", "fleet": "now-24h", "pipeline": "now-1h"}[name], "to": "now"}
    assert board["refresh"] in ("10s", "30s")
    ids = [p["id"] for p in panels(board, rows=True)]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) and 0 < i < 2**31 for i in ids)
    # The dashboard's own panels (rows included) tile the grid; a collapsed row's panels tile
    # the space below it, which they take when it is expanded.
    layers = [board["panels"]] + [[*row["panels"]] for row in board["panels"] if row["type"] == "row"]
    for layer in layers:
        cells: set = set()
        for panel in layer:
            grid = panel["gridPos"]
            assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]
            area = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                    for y in range(grid["y"], grid["y"] + grid["h"])}
            assert not area & cells, f"{panel['title']} overlaps another panel"
            cells |= area
    for row in (p for p in board["panels"] if p["type"] == "row"):
        assert row["gridPos"] == {"h": 1, "w": 24, "x": 0, "y": row["gridPos"]["y"]}, row["title"]
        assert all(p["gridPos"]["y"] > row["gridPos"]["y"] for p in row["panels"]), row["title"]
    for panel in panels(board):
        sources = [panel["datasource"]] + [t["datasource"] for t in panel["targets"]]
        assert all(isinstance(s, dict) and set(s) == {"type", "uid"} for s in sources), panel["title"]
