"""Readings and alerts for the query tests, ingested by the real moby-server (POST /publish ->
MQTT -> ingest -> InfluxDB, alerts from its anomaly engine), then the long-term tier filled by
the continuous query's own SELECT ... INTO (the CQ itself only runs on minute boundaries)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import moby_schema as schema
from influx import Influx
from moby_harness import HarnessError, Stack, wait_for

NORMAL = "dep-ok-1"
NORMAL_2 = "dep-ok-2"
WARM = "dep-warm"      # latest score 4: warning (temperature 57 °C: past 45, below 60)
HOT = "dep-hot"        # latest score 6.25: critical (75 °C), its alert stays pending
FIXED = "dep-fixed"    # was critical, back to normal, its alert resolved
SILENT = "dep-silent"  # readings 20 to 30 minutes ago only
REPORTING = [NORMAL, NORMAL_2, WARM, HOT, FIXED]

DOWNSAMPLE = schema.downsample("time >= now() - 1h")


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reading(device: str, t: float, cycle: int, temperature: float = 25.3) -> dict[str, Any]:
    return {"device_id": device, "timestamp": rfc3339(t), "temperature": temperature, "humidity": 46.0,
            "vibration": 2.2, "sound": 66.0, "accel": {"x": 0.3, "y": -0.2, "z": 9.7},
            "gyro": {"x": 1.5, "y": -2.0, "z": 0.5}, "cycle_count": cycle}


@dataclass
class Seed:
    readings: int = 0
    alerts: dict[str, int] = field(default_factory=dict)  # device -> alert id


def publish(stack: Stack, seed: Seed, item: dict[str, Any]) -> None:
    status, body = stack.http("/publish", "POST", item)
    if status != 202:
        raise HarnessError(f"POST /publish {item['device_id']}: HTTP {status}: {body}")
    seed.readings += 1


def ingest(stack: Stack, influx: Influx) -> Seed:
    seed = Seed()
    now = time.time()
    # History: one reading a minute for half an hour (the silent device stops 20 minutes ago).
    for minute in range(30, 0, -1):
        t = now - minute * 60
        for n, device in enumerate((NORMAL, NORMAL_2)):
            publish(stack, seed, reading(device, t + n, cycle=(30 - minute) * 12))
        if minute >= 20:
            publish(stack, seed, reading(SILENT, t + 2, cycle=(30 - minute) * 5))
    # The last 16 seconds: normal devices, a warning and a critical episode (3 readings raise),
    # and an episode that clears (5 normal readings).
    start = now - 16
    for i in range(8):
        t = start + i * 2
        publish(stack, seed, reading(NORMAL, t, cycle=400 + i))
        publish(stack, seed, reading(NORMAL_2, t + 0.5, cycle=400 + i))
        publish(stack, seed, reading(WARM, t, cycle=i, temperature=57.0))
        publish(stack, seed, reading(HOT, t, cycle=i, temperature=75.0))
        publish(stack, seed, reading(FIXED, t, cycle=i, temperature=75.0 if i < 3 else 25.3))

    wait_for("every reading in InfluxDB",
             lambda: influx.value('SELECT count("anomaly_score") FROM "sensors"') == seed.readings, 30, 0.2)
    alerts = wait_for("alerts for the warm, hot and fixed devices", lambda: _alerts(stack), 30, 0.2)
    seed.alerts = alerts
    _act(stack, alerts[WARM], "acknowledge")
    _act(stack, alerts[FIXED], "resolve")
    wait_for("acknowledged and resolved events in InfluxDB", lambda: influx.value(
        "SELECT count(\"alert_id\") FROM \"alerts\" WHERE \"event\" = 'alert.acknowledged' "
        "OR \"event\" = 'alert.resolved'") == 2, 30, 0.2)
    fill_long_term(influx)
    return seed


def _alerts(stack: Stack) -> dict[str, int] | None:
    found = {alert["device_id"]: alert["id"] for alert in stack.alerts(limit="50")}
    return found if {WARM, HOT, FIXED} <= set(found) else None


def _act(stack: Stack, alert_id: int, action: str) -> None:
    status, body = stack.http(f"/api/v1/alerts/{alert_id}/{action}", "POST",
                              {"actor": "deploy-tests", "note": f"{action} by the deploy tests"})
    if status != 200:
        raise HarnessError(f"{action} alert {alert_id}: HTTP {status}: {body}")


def fill_long_term(influx: Influx) -> None:
    """Creates the long-term retention policy unless the server did, and downsamples the last
    hour into it with the continuous query's SELECT."""
    policies = {row[0] for s in influx.series("SHOW RETENTION POLICIES") for row in s["values"]}
    if schema.LONG_TERM_RP not in policies:
        influx.series(schema.CREATE_LONG_TERM_RP, write=True)
    written = influx.series(DOWNSAMPLE, write=True)
    assert written and written[0]["values"][0][1] > 0, f"the downsampling wrote nothing: {written}"
