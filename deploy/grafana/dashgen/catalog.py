"""The sensor catalog (config/sensors.json) as the dashboards need it: Grafana units and
threshold steps at the catalog's warning and critical limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCORE = "anomaly_score"
COLORS = {"normal": "green", "warning": "orange", "critical": "red"}
LEVELS = ("warning", "critical")  # in rising order: a later level wins where both apply

# Catalog unit -> Grafana unit id (grafana-data/src/valueFormats/categories.ts). Grafana has no
# mm/s, so vibration gets a custom suffix unit; a unit missing here gets one too.
UNITS = {
    "°C": "celsius",
    "%": "percent",
    "mm/s": "suffix: mm/s",
    "dB": "dB",
    "m/s²": "accMS2",
    "°/s": "rotdegs",
    "cycles": "short",
}
RATE_UNIT = "cpm"  # counters are drawn as a rate per minute (counts/min)


def grafana_unit(unit: str | None) -> str:
    if not unit:
        return "none"
    return UNITS.get(unit, f"suffix: {unit}")


def threshold_steps(limits: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Grafana steps (each colour from its value up) for high/low limits per level: green where
    no limit is breached, orange past a warning limit, red past a critical one."""

    def level_at(x: float) -> str:
        worst = "normal"
        for level in LEVELS:
            limit = limits.get(level) or {}
            if ("high" in limit and x >= limit["high"]) or ("low" in limit and x < limit["low"]):
                worst = level
        return worst

    bounds = sorted({value for limit in limits.values() for value in limit.values()})
    steps: list[dict[str, Any]] = [{"color": COLORS[level_at(float("-inf"))], "value": None}]
    steps += [{"color": COLORS[level_at(bound)], "value": bound} for bound in bounds]
    return steps


class Catalog:
    def __init__(self, data: dict[str, Any]):
        self.metrics: dict[str, dict[str, Any]] = data["metrics"]
        self.score: dict[str, float] = data["score"]

    @classmethod
    def load(cls, path: Path) -> "Catalog":
        return cls(json.loads(Path(path).read_text()))

    def names(self) -> list[str]:
        return list(self.metrics)

    def is_counter(self, metric: str) -> bool:
        """Stored but not scored (no nominal/scale): drawn as a rate."""
        return "scale" not in self.metrics[metric]

    def unit(self, metric: str) -> str:
        if metric == SCORE:
            return "none"
        return grafana_unit(self.metrics[metric].get("unit"))

    def limits(self, metric: str) -> dict[str, dict[str, float]]:
        if metric == SCORE:
            return {level: {"high": self.score[level]} for level in LEVELS if level in self.score}
        entry = self.metrics[metric]
        return {level: dict(entry[level]) for level in LEVELS if entry.get(level)}

    def steps(self, metric: str) -> list[dict[str, Any]]:
        return threshold_steps(self.limits(metric))
