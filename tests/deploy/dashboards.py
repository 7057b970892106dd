"""The generated dashboards as the tests read them: panels, queries by data source, fields
config per query, and Grafana's macros expanded the way Grafana would."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"
DASHBOARD_DIR = GRAFANA / "dashboards"
NAMES = ("sensors", "fleet", "pipeline")
CATALOG = json.loads((REPO / "config" / "sensors.json").read_text())

Json = dict[str, Any]


def load(name: str) -> Json:
    return json.loads((DASHBOARD_DIR / f"{name}.json").read_text())


def panels(board: Json, rows: bool = False) -> Iterator[Json]:
    """Every panel, those in collapsed rows too; the rows themselves only when asked."""
    for panel in board.get("panels", []):
        if rows or panel["type"] != "row":
            yield panel
        yield from panel.get("panels", [])  # collapsed rows


def row_of(board: Json) -> dict[int, str]:
    """Panel id -> the title of the row it is in (panels above the first row are left out)."""
    found, current = {}, None
    for panel in board.get("panels", []):
        if panel["type"] == "row":
            current = panel["title"]
            for child in panel.get("panels", []):
                found[child["id"]] = current
        elif current is not None:
            found[panel["id"]] = current
    return found


def resolved_profile(name: str) -> Json:
    """The catalog as profile `name` judges: the default metrics with the profile's overrides
    (each severity it gives replaces both bounds of that severity), the score likewise. Written
    here from the catalog's documented rule, independently of the generator."""
    metrics = json.loads(json.dumps(CATALOG["metrics"]))
    score = dict(CATALOG["score"])
    if name != "default":
        profile = CATALOG["profiles"][name]
        for metric, fields in profile.get("metrics", {}).items():
            for key, value in fields.items():
                metrics[metric][key] = value
        score.update(profile.get("score", {}))
    return {"metrics": metrics, "score": score}


PROFILES = ["default", *CATALOG.get("profiles", {})]


def kind(datasource: Any) -> str | None:
    return datasource.get("type") if isinstance(datasource, dict) else None


def queries(board: Json, datasource_type: str) -> list[tuple[str, str]]:
    """(where, query) for every query of that data source type: panel targets, template
    variables and annotations."""
    found = []
    for panel in panels(board):
        for target in panel.get("targets", []):
            if kind(target.get("datasource") or panel.get("datasource")) == datasource_type:
                text = target.get("query") if datasource_type == "influxdb" else target.get("expr")
                found.append((f"{board['uid']} panel '{panel['title']}' {target['refId']}", text))
    for variable in board.get("templating", {}).get("list", []):
        if kind(variable.get("datasource")) == datasource_type:
            query = variable["query"]
            found.append((f"{board['uid']} variable ${variable['name']}",
                          query["query"] if isinstance(query, dict) else query))
    for annotation in board.get("annotations", {}).get("list", []):
        if kind(annotation.get("datasource")) == datasource_type:
            found.append((f"{board['uid']} annotation '{annotation['name']}'", annotation["target"]["query"]))
    return found


def effective_config(panel: Json, ref: str) -> Json:
    """The field config Grafana applies to the frames of query `ref`: defaults, then the
    overrides matching that query (byFrameRefID)."""
    config = json.loads(json.dumps(panel["fieldConfig"]["defaults"]))
    for override in panel["fieldConfig"]["overrides"]:
        if override["matcher"] == {"id": "byFrameRefID", "options": ref}:
            for prop in override["properties"]:
                if prop["id"].startswith("custom."):
                    config.setdefault("custom", {})[prop["id"].removeprefix("custom.")] = prop["value"]
                else:
                    config[prop["id"]] = prop["value"]
    return config


ALL = ".*"  # the allValue of location, line and device


def expand_influx(query: str, device: str = ALL, time_filter: str = "time >= now() - 1h", interval: str = "10s",
                  **variables: str) -> str:
    """Grafana's InfluxQL macros and variables: a multi-value variable becomes its value
    regex-escaped, `(a|b)` for several, the allValue `.*` for All (or, without an allValue,
    the `(a|b|...)` of every value it lists). `device`, `location` and `line` default to All;
    `scope` must be given when the query uses it."""
    values = {"device": device, "location": ALL, "line": ALL, **variables}
    expanded = query.replace("$timeFilter", time_filter).replace("$__interval", interval)
    # Longest names first, so that no name is taken for the prefix of another.
    for name in sorted(values, key=len, reverse=True):
        expanded = expanded.replace(f"${name}", values[name])
    leftover = re.search(r"\$[A-Za-z_]\w*", expanded)
    assert not leftover, f"unexpanded {leftover.group()} in {expanded}"
    return expanded


def expand_promql(expr: str, instance: str, rate_interval: str = "30s", interval: str = "10s") -> str:
    expanded = (expr.replace("$__rate_interval", rate_interval).replace("$__interval", interval)
                .replace("$instance", instance))
    leftover = re.search(r"\$[A-Za-z_]\w*", expanded)
    assert not leftover, f"unexpanded {leftover.group()} in {expanded}"
    return expanded


def regex_escape(value: str) -> str:
    """What Grafana does to a multi-value variable's value inside an InfluxQL regex."""
    return re.sub(r"[\\^$*+?.()|{}\[\]/]", lambda m: "\\" + m.group(), value)


def several(*values: str) -> str:
    """A multi-value variable with several values selected (or All without an allValue)."""
    return "(" + "|".join(regex_escape(value) for value in values) + ")"


def variable(board: Json, name: str) -> Json:
    return next(v for v in board["templating"]["list"] if v["name"] == name)


def promql_regex_escape(value: str) -> str:
    """The same inside a PromQL string (`=~"..."`): the regex's backslash itself escaped."""
    return re.sub(r"[\\^$*+?.()|{}\[\]]", lambda m: "\\\\" + m.group(), value)
