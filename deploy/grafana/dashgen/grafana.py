"""Small builders for Grafana dashboard JSON (schemaVersion 39: Grafana 10.4 and 11)."""

from __future__ import annotations

from typing import Any, Iterable

SCHEMA_VERSION = 39
INFLUX = {"type": "influxdb", "uid": "moby-influxdb"}
PROMETHEUS = {"type": "prometheus", "uid": "moby-prometheus"}
GRID_WIDTH = 24
BASE_STEPS = [{"color": "green", "value": None}]

Json = dict[str, Any]


def ref_ids() -> Iterable[str]:
    return (chr(ord("A") + i) for i in range(26))


def influx_target(ref: str, query: str, alias: str | None = None, table: bool = False) -> Json:
    target: Json = {"datasource": INFLUX, "query": query, "rawQuery": True, "refId": ref,
                    "resultFormat": "table" if table else "time_series"}
    if alias:
        target["alias"] = alias
    return target


def prom_target(ref: str, expr: str, legend: str) -> Json:
    return {"datasource": PROMETHEUS, "editorMode": "code", "expr": expr, "legendFormat": legend,
            "range": True, "refId": ref}


def thresholds(steps: list[Json] | None = None) -> Json:
    return {"mode": "absolute", "steps": steps or BASE_STEPS}


def by_ref(ref: str, properties: list[Json]) -> Json:
    return {"matcher": {"id": "byFrameRefID", "options": ref}, "properties": properties}


def by_name(name: str, properties: list[Json]) -> Json:
    return {"matcher": {"id": "byName", "options": name}, "properties": properties}


def fixed_color(color: str) -> Json:
    return {"id": "color", "value": {"fixedColor": color, "mode": "fixed"}}


def panel(kind: str, title: str, targets: list[Json], description: str, defaults: Json,
          overrides: list[Json] | None = None, options: Json | None = None, width: int = 12,
          height: int = 8, **extra: Any) -> Json:
    datasource = targets[0]["datasource"]
    result: Json = {
        "datasource": datasource,
        "description": description,
        "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
        "gridPos": {"h": height, "w": width, "x": 0, "y": 0},
        "options": options or {},
        "targets": targets,
        "title": title,
        "type": kind,
    }
    result.update(extra)
    return result


def timeseries(title: str, targets: list[Json], description: str, unit: str,
               steps: list[Json] | None = None, style: str = "off", overrides: list[Json] | None = None,
               draw: str = "line", fill: int = 0, interval: str | None = None, stacked: bool = False,
               width: int = 12, height: int = 8, min_value: float | None = None) -> Json:
    """`style`: thresholdsStyle mode (off, line, dashed, line+area, dashed+area, area)."""
    custom: Json = {
        "drawStyle": draw,
        "fillOpacity": fill,
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if stacked else "none"},
        "thresholdsStyle": {"mode": style},
    }
    defaults: Json = {"color": {"mode": "palette-classic"}, "custom": custom,
                      "thresholds": thresholds(steps), "unit": unit}
    if min_value is not None:
        defaults["min"] = min_value
    options = {"legend": {"calcs": ["lastNotNull", "max"], "displayMode": "table", "placement": "right",
                          "showLegend": True},
               "tooltip": {"mode": "multi", "sort": "desc"}}
    extra = {"interval": interval} if interval else {}
    return panel("timeseries", title, targets, description, defaults, overrides, options, width, height, **extra)


def stat(title: str, targets: list[Json], description: str, unit: str = "short",
         overrides: list[Json] | None = None, width: int = 12, height: int = 6) -> Json:
    defaults: Json = {"color": {"mode": "thresholds"}, "noValue": "0", "thresholds": thresholds(), "unit": unit}
    options = {"colorMode": "background", "graphMode": "none", "justifyMode": "center", "orientation": "vertical",
               "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "textMode": "value_and_name"}
    return panel("stat", title, targets, description, defaults, overrides, options, width, height)


def table(title: str, targets: list[Json], description: str, overrides: list[Json] | None = None,
          steps: list[Json] | None = None, unit: str = "none", sort_by: str | None = None,
          transformations: list[Json] | None = None, width: int = 12, height: int = 8) -> Json:
    defaults: Json = {"custom": {"align": "auto", "cellOptions": {"type": "auto"}},
                      "thresholds": thresholds(steps), "unit": unit}
    options: Json = {"cellHeight": "sm", "showHeader": True}
    if sort_by:
        options["sortBy"] = [{"desc": True, "displayName": sort_by}]
    return panel("table", title, targets, description, defaults, overrides, options, width, height,
                 transformations=transformations or [])


def state_timeline(title: str, targets: list[Json], description: str, mappings: list[Json],
                   width: int = 24, height: int = 5) -> Json:
    defaults: Json = {"color": {"mode": "thresholds"}, "custom": {"fillOpacity": 80, "lineWidth": 0},
                      "mappings": mappings, "thresholds": thresholds(), "unit": "none"}
    options = {"alignValue": "left", "legend": {"displayMode": "list", "placement": "bottom", "showLegend": False},
               "mergeValues": True, "rowHeight": 0.8, "showValue": "auto", "tooltip": {"mode": "single"}}
    return panel("state-timeline", title, targets, description, defaults, None, options, width, height)


def row(title: str, panels: list[Json], collapsed: bool, row_id: int) -> list[Json]:
    """A row and its panels as they go into a dashboard's list: a collapsed row holds its panels
    (laid out as they will be when expanded), an expanded one is followed by them."""
    head: Json = {"collapsed": collapsed, "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": 0}, "id": row_id,
                  "panels": panels if collapsed else [], "title": title, "type": "row"}
    return [head] if collapsed else [head, *panels]


def place(panels: list[Json]) -> list[Json]:
    """Flows panels left to right, top to bottom, by their widths; a row starts a line of its
    own, and a collapsed row's panels are placed below it as when expanded, taking no room until
    then. Panels without an id get the lowest free ones in order."""
    x = y = line_height = 0

    def newline() -> None:
        nonlocal x, y, line_height
        if x:
            x, y, line_height = 0, y + line_height, 0

    def flow(item: Json) -> None:
        nonlocal x, line_height
        grid = item["gridPos"]
        if x + grid["w"] > GRID_WIDTH:
            newline()
        grid["x"], grid["y"] = x, y
        x += grid["w"]
        line_height = max(line_height, grid["h"])

    for item in panels:
        if item["type"] != "row":
            flow(item)
            continue
        newline()
        item["gridPos"].update(x=0, y=y, w=GRID_WIDTH, h=1)
        y += 1
        if item["collapsed"]:
            below = y
            for child in item["panels"]:
                flow(child)
            x, y, line_height = 0, below, 0
    every = [p for item in panels for p in (item, *item.get("panels", []))]
    taken = {p["id"] for p in every if "id" in p}
    free = (number for number in range(1, 1 << 31) if number not in taken)
    for item in every:
        if "id" not in item:
            item["id"] = next(free)
    return panels


def query_variable(name: str, label: str, query: str, all_value: str | None = ".*", hide: int = 0,
                   refresh: int = 1) -> Json:
    """An InfluxQL query variable, multi-valued with All selected. `all_value` `.*` makes All a
    regex that also matches points without the tag; None makes All the listed values.
    `refresh`: 1 on dashboard load, 2 on every time range change (and auto-refresh)."""
    return {
        "allValue": all_value, "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "datasource": INFLUX, "definition": query, "hide": hide, "includeAll": True, "label": label,
        "multi": True, "name": name, "options": [], "query": query, "refresh": refresh, "regex": "",
        "skipUrlSync": False, "sort": 1, "type": "query",
    }


BUILT_IN_ANNOTATIONS = {
    "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
}


def influx_annotation(name: str, color: str, query: str, text: str, tags: str, title: str) -> Json:
    return {
        "datasource": INFLUX, "enable": True, "iconColor": color, "name": name,
        "target": {"fromAnnotations": True, "query": query, "rawQuery": True, "refId": "Anno",
                   "tagsColumn": tags, "textColumn": text, "textEditor": True, "titleColumn": title},
    }


def dashboard(uid: str, title: str, description: str, panels: list[Json], time_from: str, refresh: str,
              variables: list[Json] | None = None, annotations: list[Json] | None = None) -> Json:
    return {
        "annotations": {"list": [BUILT_IN_ANNOTATIONS, *(annotations or [])]},
        "description": description,
        "editable": False,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "links": [{"asDropdown": False, "icon": "external link", "includeVars": False, "keepTime": True,
                   "tags": ["moby"], "targetBlank": False, "title": "MOBY", "type": "dashboards"}],
        "panels": place(panels),
        "refresh": refresh,
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["moby"],
        "templating": {"list": variables or []},
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }
