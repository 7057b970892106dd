"""The sensor catalog (config/sensors.json) as the dashboards need it: Grafana units and
threshold steps at the catalog's warning and critical limits, per device profile."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

SCORE = "anomaly_score"
COLORS = {"normal": "green", "warning": "orange", "critical": "red"}
LEVELS = ("warning", "critical")  # in rising order: a later level wins where both apply
DEFAULT_PROFILE = "default"
# What a profile may override, as moby-server reads it (SensorCatalog+File.swift): per metric
# nominal, scale and whole severities (a severity given replaces both its bounds), and the score's
# limits one by one. Profile names are InfluxDB tag values quoted into queries: the server's
# alphabet, checked here too.
PROFILE_KEYS = {"metrics", "score"}
PROFILE_METRIC_KEYS = {"nominal", "scale", "warning", "critical"}
PROFILE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

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
    """The catalog as one profile sees it: `Catalog(data)` is the default profile, `profile(name)`
    another one with its overrides applied."""

    def __init__(self, data: dict[str, Any], name: str = DEFAULT_PROFILE):
        self.data = data
        self.name = name
        self.metrics: dict[str, dict[str, Any]] = data["metrics"]
        self.score: dict[str, float] = data["score"]
        self._profiles: dict[str, dict[str, Any]] = data.get("profiles") or {}
        if name == DEFAULT_PROFILE:
            self._check_profiles()

    @classmethod
    def load(cls, path: Path) -> "Catalog":
        return cls(json.loads(Path(path).read_text()))

    def profile_names(self) -> list[str]:
        """`default` first, then the catalog's profiles in the catalog's order."""
        return [DEFAULT_PROFILE, *self._profiles]

    def profile(self, name: str) -> "Catalog":
        """The catalog resolved for profile `name`: the default metrics with the profile's
        overrides (a severity given replaces both its bounds), the score limits likewise."""
        if name == DEFAULT_PROFILE:
            return self
        overrides = self._profiles[name]
        data = copy.deepcopy({key: value for key, value in self.data.items() if key != "profiles"})
        for metric, fields in (overrides.get("metrics") or {}).items():
            data["metrics"][metric].update(copy.deepcopy(fields))
        data["score"].update(overrides.get("score") or {})
        return Catalog(data, name)

    def _check_profiles(self) -> None:
        if not isinstance(self._profiles, dict):
            raise ValueError("profiles: expected an object of named profiles")
        for name, profile in self._profiles.items():
            where = f"profiles.{name}"
            if name == DEFAULT_PROFILE or not PROFILE_NAME.match(name):
                raise ValueError(f"{where}: a profile name is 1 to 64 ASCII letters, digits, - and _, not 'default'")
            if not isinstance(profile, dict) or set(profile) - PROFILE_KEYS:
                raise ValueError(f"{where}: a profile has only {sorted(PROFILE_KEYS)}")
            for metric, fields in (profile.get("metrics") or {}).items():
                if metric not in self.metrics:
                    raise ValueError(f"{where}.metrics.{metric}: not a metric of the catalog")
                if not isinstance(fields, dict) or set(fields) - PROFILE_METRIC_KEYS:
                    raise ValueError(f"{where}.metrics.{metric}: a profile overrides only {sorted(PROFILE_METRIC_KEYS)}")
            if set(profile.get("score") or {}) - set(LEVELS):
                raise ValueError(f"{where}.score: only {list(LEVELS)}")

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
