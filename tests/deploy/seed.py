"""Readings and alerts for the query tests, ingested by the real moby-server (POST /publish ->
MQTT -> ingest -> InfluxDB, alerts from its anomaly engine), then the long-term tier filled by
the continuous query's own SELECT ... INTO (the CQ itself only runs on minute boundaries).

Registry (issue 16): two devices are given a profile through PUT /api/v1/devices/{id} before
they report, and some readings carry their device's location and line, so points are tagged
with them; the other devices have neither (All must still match them). Where devices stand:

  plant-a / line-1   dep-cold (cold_room, placed by PUT), dep-warm, dep-silent (by their readings)
  plant-b / line-2   dep-press (press; line by PUT, location by its readings), dep-hot (readings)
  nowhere            dep-ok-1, dep-ok-2, dep-fixed

One point of dep-silent is written straight to InfluxDB the way servers before issue 16 stored
it (no profile, location or line tag), 40 minutes ago."""

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
COLD = "dep-cold"      # cold_room at 2 °C: normal there (score about 1), warning by default's limits
PRESS = "dep-press"    # press at 9 mm/s and 88 dB: normal there, past default's warning limits
REPORTING = [NORMAL, NORMAL_2, WARM, HOT, FIXED, COLD, PRESS]
PLANT_A, PLANT_B, LINE_1, LINE_2 = "plant-a", "plant-b", "line-1", "line-2"
# Registry entries set before the first reading (PUT /api/v1/devices/{id}: the whole entry).
REGISTRY = {
    COLD: {"name": "Cold room 1", "location": PLANT_A, "line": LINE_1, "profile": "cold_room",
           "labels": {"cell": "c-1"}},
    PRESS: {"name": "Press 7", "line": LINE_2, "profile": "press", "labels": {"vendor": "acme"}},
}
# Where each device's readings say it stands ("location" and "line" fields of the reading).
PLACED_BY_READINGS = {WARM: (PLANT_A, LINE_1), SILENT: (PLANT_A, LINE_1), HOT: (PLANT_B, LINE_2),
                      COLD: (PLANT_A, None), PRESS: (PLANT_B, None)}
STANDS = {COLD: (PLANT_A, LINE_1), WARM: (PLANT_A, LINE_1), SILENT: (PLANT_A, LINE_1),
          PRESS: (PLANT_B, LINE_2), HOT: (PLANT_B, LINE_2)}
PROFILE = {COLD: "cold_room", PRESS: "press"}  # the others: default
LEGACY_MINUTES_AGO = 40

DOWNSAMPLE = schema.downsample("time >= now() - 1h")


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reading(device: str, t: float, cycle: int, temperature: float = 25.3, humidity: float = 46.0,
            vibration: float = 2.2, sound: float = 66.0) -> dict[str, Any]:
    item = {"device_id": device, "timestamp": rfc3339(t), "temperature": temperature, "humidity": humidity,
            "vibration": vibration, "sound": sound, "accel": {"x": 0.3, "y": -0.2, "z": 9.7},
            "gyro": {"x": 1.5, "y": -2.0, "z": 0.5}, "cycle_count": cycle}
    location, line = PLACED_BY_READINGS.get(device, (None, None))
    if location:
        item["location"] = location
    if line:
        item["line"] = line
    return item


def cold(t: float, cycle: int) -> dict[str, Any]:
    return reading(COLD, t, cycle, temperature=2.0, humidity=62.0)


def press(t: float, cycle: int) -> dict[str, Any]:
    return reading(PRESS, t, cycle, vibration=9.0, sound=88.0)


@dataclass
class Seed:
    readings: int = 0
    alerts: dict[str, int] = field(default_factory=dict)  # device -> alert id


def publish(stack: Stack, seed: Seed, item: dict[str, Any]) -> None:
    status, body = stack.http("/publish", "POST", item)
    if status != 202:
        raise HarnessError(f"POST /publish {item['device_id']}: HTTP {status}: {body}")
    seed.readings += 1


def register(stack: Stack) -> None:
    for device, entry in REGISTRY.items():
        status, body = stack.http(f"/api/v1/devices/{device}", "PUT", entry)
        if status not in (200, 201) or body.get("profile") != entry["profile"]:
            raise HarnessError(f"PUT /api/v1/devices/{device}: HTTP {status}: {body}")


def ingest(stack: Stack, influx: Influx) -> Seed:
    seed = Seed()
    register(stack)
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
        publish(stack, seed, cold(t + 1, cycle=i))
        publish(stack, seed, press(t + 1, cycle=i))

    wait_for("every reading in InfluxDB",
             lambda: influx.value('SELECT count("anomaly_score") FROM "sensors"') == seed.readings, 30, 0.2)
    write_legacy_point(influx, now - LEGACY_MINUTES_AGO * 60)
    alerts = wait_for("alerts for the warm, hot and fixed devices", lambda: _alerts(stack), 30, 0.2)
    seed.alerts = alerts
    _act(stack, alerts[WARM], "acknowledge")
    _act(stack, alerts[FIXED], "resolve")
    wait_for("acknowledged and resolved events in InfluxDB", lambda: influx.value(
        "SELECT count(\"alert_id\") FROM \"alerts\" WHERE \"event\" = 'alert.acknowledged' "
        "OR \"event\" = 'alert.resolved'") == 2, 30, 0.2)
    fill_long_term(influx)
    return seed


def write_legacy_point(influx: Influx, t: float) -> None:
    """A reading of the silent device as stored before devices had profiles and places."""
    fields = ("temperature=25.3,humidity=46,vibration=2.2,sound=66,accel_x=0.3,accel_y=-0.2,accel_z=9.7,"
              "gyro_x=1.5,gyro_y=-2,gyro_z=0.5,cycle_count=0i,anomaly_score=0.1")
    influx.write(f"sensors,device_id={SILENT} {fields} {int(t * 1e9)}")


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
