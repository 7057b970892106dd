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


def panels(board: Json) -> Iterator[Json]:
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # collapsed rows


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


def expand_influx(query: str, device: str, time_filter: str = "time >= now() - 1h", interval: str = "10s") -> str:
    """Grafana's InfluxQL macros: `device` is what a multi-value variable becomes (a value
    regex-escaped, `(a|b)` for several, the allValue `.*` for All)."""
    expanded = query.replace("$timeFilter", time_filter).replace("$__interval", interval).replace("$device", device)
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


def promql_regex_escape(value: str) -> str:
    """The same inside a PromQL string (`=~"..."`): the regex's backslash itself escaped."""
    return re.sub(r"[\\^$*+?.()|{}\[\]]", lambda m: "\\\\" + m.group(), value)
