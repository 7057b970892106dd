"""The generated dashboards against the catalog and Grafana's conventions: every unit is the
catalog unit's Grafana unit, every threshold is a catalog limit with the right colour on the
right side, queries have the shape that keeps them cheap, layout and references are sound."""

from __future__ import annotations

import re

import pytest

from dashboards import CATALOG, NAMES, effective_config, load, panels

# The catalog unit -> Grafana unit id table of the issue (Grafana has no mm/s; °/s is rotdegs).
EXPECTED_UNITS = {"°C": "celsius", "%": "percent", "mm/s": "suffix: mm/s", "dB": "dB", "m/s²": "accMS2",
                  "°/s": "rotdegs", "cycles": "short"}
COLOR = {"warning": "orange", "critical": "red"}
SCORE = "anomaly_score"
FIRST_FIELD = re.compile(r'^SELECT\s+(\w+)\((?:(\w+)\()?"(\w+)"')
SERIES_WHERE = 'WHERE $timeFilter AND "device_id" =~ /^$device$/'
SERIES_GROUP = 'GROUP BY time($__interval), "device_id" fill(none)'


def target_metric(query: str) -> tuple[str | None, bool]:
    """The catalog metric a query draws (from its first aggregate, long-term prefixes removed)
    and whether it draws it as a rate."""
    match = FIRST_FIELD.match(query)
    if not match:
        return None, False
    field = re.sub(r"^(mean|min|max)_", "", match.group(3))
    known = field == SCORE or field in CATALOG["metrics"]
    return (field if known else None), match.group(1) == "non_negative_derivative"


def limits(metric: str) -> dict[str, dict[str, float]]:
    if metric == SCORE:
        return {level: {"high": CATALOG["score"][level]} for level in COLOR}
    return {level: CATALOG["metrics"][metric][level] for level in COLOR if level in CATALOG["metrics"][metric]}


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


def check_steps(where: str, steps: list[dict], metric: str) -> None:
    assert steps[0]["value"] is None, f"{where}: the first step is the base (value null)"
    values = [step["value"] for step in steps[1:]]
    assert values == sorted(values), f"{where}: steps must rise"
    wanted = sorted({v for limit in limits(metric).values() for v in limit.values()})
    assert values == wanted, f"{where}: threshold values {values} are not the catalog's limits {wanted}"
    for level, limit in limits(metric).items():
        if "high" in limit:
            assert color_at(steps, limit["high"]) == COLOR[level], f"{where}: {level} high {limit['high']}"
        if "low" in limit:
            below = limit["low"] - 1e-9 * max(1.0, abs(limit["low"]))
            assert color_at(steps, below) == COLOR[level], f"{where}: below the {level} low {limit['low']}"
            assert color_at(steps, limit["low"]) != COLOR[level], f"{where}: at the {level} low {limit['low']}"
    normal = 0.0 if metric == SCORE else CATALOG["metrics"][metric]["nominal"]
    assert color_at(steps, normal) == "green", f"{where}: the nominal value {normal} is not green"


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
                check_steps(where, config["thresholds"]["steps"], metric)
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


def test_sensors_draws_every_catalog_metric_and_the_score():
    drawn = {target_metric(t["query"])[0] for p in panels(load("sensors")) for t in p["targets"]}
    assert set(CATALOG["metrics"]) | {SCORE} <= drawn


def test_sensor_series_queries_are_per_interval_and_device():
    board = load("sensors")
    series = [t for p in panels(board) for t in p["targets"] if t["resultFormat"] == "time_series"]
    assert len(series) >= 12
    for target in series:
        assert SERIES_WHERE in target["query"] and target["query"].endswith(SERIES_GROUP), target["query"]
    for panel in panels(board):
        for target in panel["targets"]:
            assert '"device_id" =~ /^$device$/' in target["query"], panel["title"]
    cycle = next(t["query"] for p in panels(board) for t in p["targets"] if "cycle_count" in t["query"])
    assert 'non_negative_derivative(last("cycle_count"), 1m)' in cycle


def test_sensors_has_the_device_variable_alert_annotations_and_open_alerts():
    board = load("sensors")
    (variable,) = board["templating"]["list"]
    assert variable["name"] == "device" and variable["multi"] and variable["includeAll"]
    assert variable["query"] == 'SHOW TAG VALUES FROM "sensors" WITH KEY = "device_id"'
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
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids))
    cells = set()
    for panel in panels(board):
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]
        area = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
        sources = [panel["datasource"]] + [t["datasource"] for t in panel["targets"]]
        assert all(isinstance(s, dict) and set(s) == {"type", "uid"} for s in sources), panel["title"]
