"""deploy/grafana/generate: the committed dashboards are exactly what it writes from the
committed catalog, and a catalog change without regenerating is caught."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dashboards import DASHBOARD_DIR, GRAFANA, NAMES, REPO, load, panels

GENERATE = GRAFANA / "generate"
CATALOG = REPO / "config" / "sensors.json"


def generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GENERATE), *args], capture_output=True, text=True, timeout=60)


def changed_catalog(tmp_path: Path, change) -> Path:
    data = json.loads(CATALOG.read_text())
    change(data)
    path = tmp_path / "sensors.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    return path


def test_committed_dashboards_are_what_the_generator_writes():
    result = generate("--check")
    assert result.returncode == 0, result.stderr


def test_generated_bytes_are_deterministic_and_formatted(tmp_path):
    for out in (tmp_path / "one", tmp_path / "two"):
        assert generate("--out", str(out)).returncode == 0
    for name in NAMES:
        first = (tmp_path / "one" / f"{name}.json").read_bytes()
        assert first == (tmp_path / "two" / f"{name}.json").read_bytes()
        assert first == (DASHBOARD_DIR / f"{name}.json").read_bytes()
        text = first.decode()
        assert text.endswith("}\n") and not text.endswith("\n\n")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_a_changed_limit_fails_the_check_and_names_the_file(tmp_path):
    catalog = changed_catalog(tmp_path, lambda c: c["metrics"]["temperature"]["warning"].update(high=46))
    result = generate("--check", "--catalog", str(catalog))
    assert result.returncode == 1
    assert "sensors.json" in result.stderr
    assert "fleet.json" not in result.stderr and "pipeline.json" not in result.stderr


def test_a_changed_score_limit_names_both_dashboards_that_draw_it(tmp_path):
    catalog = changed_catalog(tmp_path, lambda c: c["score"].update(critical=6.0))
    result = generate("--check", "--catalog", str(catalog))
    assert result.returncode == 1
    assert "sensors.json" in result.stderr and "fleet.json" in result.stderr


def test_a_regenerated_catalog_carries_its_new_limits_and_metrics(tmp_path):
    def change(c):
        c["metrics"]["temperature"]["critical"]["high"] = 70
        c["metrics"]["pressure"] = {"unit": "kPa", "valid": [0, 1000], "nominal": 101, "scale": 5,
                                    "warning": {"low": 90}, "critical": {"low": 80}}

    catalog = changed_catalog(tmp_path, change)
    out = tmp_path / "out"
    assert generate("--catalog", str(catalog), "--out", str(out)).returncode == 0
    board = json.loads((out / "sensors.json").read_text())
    by_title = {panel["title"]: panel for panel in board["panels"]}
    assert [s["value"] for s in by_title["Temperature and humidity"]["fieldConfig"]["defaults"]["thresholds"]["steps"]] \
        == [None, 45, 70]
    pressure = by_title["pressure"]["fieldConfig"]["defaults"]
    assert pressure["unit"] == "suffix: kPa"
    assert pressure["thresholds"]["steps"] == [{"color": "red", "value": None}, {"color": "orange", "value": 80},
                                              {"color": "green", "value": 90}]
    assert generate("--check", "--catalog", str(catalog), "--out", str(out)).returncode == 0


def test_the_committed_catalog_has_profiles_and_labels():
    """The keys of issue 16 are read, not merely tolerated (the check above passes with them)."""
    data = json.loads(CATALOG.read_text())
    assert data["profiles"] and data["device_labels"]
    rows = [p["title"] for p in load("sensors")["panels"] if p["type"] == "row"]
    assert rows == ["Profile default", *(f"Profile {name}" for name in data["profiles"])]


def test_a_new_profile_gets_a_row_and_leaves_every_id_alone(tmp_path):
    def change(c):
        # Inserted first, so a numbering by catalog order would move the others.
        c["profiles"] = {"compressor": {"metrics": {"sound": {"warning": {"high": 90}, "critical": {"high": 98}}},
                                        "score": {"warning": 3.5}},
                         **c["profiles"]}

    catalog = changed_catalog(tmp_path, change)
    out = tmp_path / "out"
    assert generate("--catalog", str(catalog), "--out", str(out)).returncode == 0
    result = generate("--check", "--catalog", str(catalog))
    assert result.returncode == 1 and "sensors.json" in result.stderr and "fleet.json" in result.stderr

    def ids(board):
        return {p["title"]: p["id"] for p in panels(board, rows=True)}

    before, after = ids(load("sensors")), ids(json.loads((out / "sensors.json").read_text()))
    assert {title: after.get(title) for title in before} == before
    new = {title: number for title, number in after.items() if title not in before}
    assert "Profile compressor" in new and "Sound · compressor" in new and "Anomaly score · compressor" in new
    board = json.loads((out / "sensors.json").read_text())
    by_title = {p["title"]: p for p in panels(board)}
    assert [s["value"] for s in by_title["Sound · compressor"]["fieldConfig"]["defaults"]["thresholds"]["steps"]] \
        == [None, 90, 98]
    assert [s["value"] for s in by_title["Anomaly score · compressor"]["fieldConfig"]["defaults"]["thresholds"]
            ["steps"]] == [None, 3.5, 5.0]
    query = by_title["Sound · compressor"]["targets"][0]["query"]
    assert "\"profile\" = 'compressor'" in query


def test_the_output_does_not_depend_on_the_order_of_profiles(tmp_path):
    def reverse(c):
        c["profiles"] = dict(reversed(list(c["profiles"].items())))

    out = tmp_path / "out"
    assert generate("--catalog", str(changed_catalog(tmp_path, reverse)), "--out", str(out)).returncode == 0
    board = json.loads((out / "sensors.json").read_text())
    assert {p["title"]: p["id"] for p in panels(board, rows=True)} == \
        {p["title"]: p["id"] for p in panels(load("sensors"), rows=True)}


def test_a_profile_the_server_would_refuse_is_an_error(tmp_path):
    cases = [
        (lambda c: c["profiles"]["press"]["metrics"].update(pressure={"nominal": 1}), "profiles.press.metrics.pressure"),
        (lambda c: c["profiles"]["press"]["metrics"]["sound"].update(unit="dB"), "profiles.press.metrics.sound"),
        (lambda c: c["profiles"].update({"it's": {}}), "profiles.it's"),
        (lambda c: c["profiles"].update(default={}), "profiles.default"),
        (lambda c: c["profiles"]["press"].update(score={"notice": 1}), "profiles.press.score"),
    ]
    for change, key in cases:
        result = generate("--check", "--catalog", str(changed_catalog(tmp_path, change)))
        assert result.returncode == 2 and key in result.stderr, (key, result.stderr)


def test_a_broken_catalog_is_an_error_not_a_dashboard(tmp_path):
    bad = tmp_path / "sensors.json"
    bad.write_text('{"metrics": {}}')
    result = generate("--check", "--catalog", str(bad))
    assert result.returncode == 2 and "score" in result.stderr


def test_the_committed_files_are_valid_dashboards():
    for name in NAMES:
        board = load(name)
        assert board["uid"] == f"moby-{name}"
