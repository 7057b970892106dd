"""scripts/run's broker credentials (broker_credentials in scripts/lib.sh): made on the first run,
kept on the next ones, and taken by a broker rendered the way scripts/run renders it; with built
binaries ($MOBY_BIN), moby-sensor --credentials and moby-server's MOBY_MQTT_URL against it."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import DATA, OWNER, Clients, finish
from moby_harness import BIN, REPO, Broker, Service, wait_for

DEVICES = [f"sensor_{n:03d}" for n in range(1, 6)]


def bash(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", f'set -euo pipefail; source "{REPO}/scripts/lib.sh"; {script}', "bash", *args],
                          capture_output=True, text=True, timeout=120)


def credentials(var: Path, devices: int) -> None:
    result = bash('broker_credentials "$1" "$2"', str(var), str(devices))
    assert result.returncode == 0, result.stderr


def table(var: Path) -> dict[str, tuple[str, str]]:
    lines = [line.split() for line in (var / "sensor-credentials").read_text().splitlines() if not line.startswith("#")]
    return {fields[0]: (fields[1], fields[2]) for fields in lines}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def server_url(var: Path, port: int) -> str:
    result = bash('printf "mqtt://moby-server:%s@127.0.0.1:%s" "$(percent_encode "$(secret moby-server "$1")")" "$2"',
                  str(var / "server.password"), str(port))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_percent_encoding_and_device_names():
    result = bash('percent_encode "p@ss:w/rd é%~_-."')
    assert result.stdout == "p%40ss%3Aw%2Frd%20%C3%A9%25~_-."
    assert bash("device_ids 5").stdout.split() == DEVICES
    assert bash("device_ids 1000").stdout.split()[::999] == ["sensor_0001", "sensor_1000"]


def test_first_run_then_reruns_keep_the_credentials(tmp_path: Path):
    var = tmp_path / "mosquitto"
    var.mkdir()
    # Left by a run from before authentication: the old config and the broker's sessions.
    (var / "mosquitto.conf").write_text("allow_anonymous true\n")
    (var / "mosquitto.db").write_bytes(b"sessions")
    credentials(var, 5)
    users = subprocess.run([str(REPO / "deploy/mosquitto/moby-mqtt-user"), "--dir", str(var), "list"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    assert users == [f"device {d}" for d in DEVICES] + ["server moby-server", "viewer moby-viewer"]
    first = table(var)
    assert sorted(first) == DEVICES and all(user == device for device, (user, _) in first.items())
    for name in ("passwd", "acl", "server.password", "viewer.password", "sensor-credentials"):
        assert stat.S_IMODE((var / name).stat().st_mode) == 0o600, name
    kept = {name: digest(var / name) for name in ("passwd", "acl", "server.password", "sensor-credentials")}

    credentials(var, 5)
    assert {name: digest(var / name) for name in kept} == kept, "a re-run changed the credentials"

    credentials(var, 7)
    assert sorted(table(var)) == DEVICES + ["sensor_006", "sensor_007"]
    assert {d: table(var)[d] for d in DEVICES} == first
    credentials(var, 2)  # fewer devices: the others keep their lines (they are still users)
    assert sorted(table(var)) == DEVICES + ["sensor_006", "sensor_007"]

    (var / "server.password").unlink()  # a lost password: a new one for the same user
    credentials(var, 5)
    assert (var / "server.password").read_text().split()[0] == "moby-server"
    assert (var / "acl").read_text().count("\nuser moby-server\n") == 1


def test_the_credentials_work_on_the_broker_scripts_run_renders(request, tmp_path: Path, clients: Clients):
    var = tmp_path / "mosquitto"
    credentials(var, 5)
    broker = Broker(var, OWNER)  # the template rendered with DIR/passwd and DIR/acl, as scripts/run does
    broker.start()
    try:
        url = server_url(var, broker.port)
        user, password = url.removeprefix("mqtt://").split("@")[0].split(":")
        server = clients.connected(broker, unquote(user), unquote(password), client_id="moby-server")
        server.subscribe(f"{DATA}/+")
        for device, (user, password) in table(var).items():
            client = clients.connected(broker, user, password)
            client.publish(f"{DATA}/{device}", f"from {device}")
            server.wait_for(f"{DATA}/{device}", f"from {device}")
            client.close()
    finally:
        clients.close()
        finish(broker, request)


@pytest.mark.skipif(not (BIN / "moby-sensor").is_file() or not (BIN / "moby-server").is_file(),
                    reason=f"no moby-sensor/moby-server in {BIN} (set MOBY_BIN)")
def test_moby_sensor_and_moby_server_log_in_with_them(request, tmp_path: Path, clients: Clients):
    var = tmp_path / "mosquitto"
    credentials(var, 5)
    broker = Broker(var, OWNER)
    broker.start()
    started: list[Service] = []
    try:
        viewer = clients.connected(broker, "moby-viewer", (var / "viewer.password").read_text().split()[1])
        viewer.subscribe(f"{DATA}/+")
        sensor = Service("moby-sensor", [str(BIN / "moby-sensor"), "--mqtt-url", f"mqtt://127.0.0.1:{broker.port}",
                                         "--credentials", str(var / "sensor-credentials"), "--devices", "5",
                                         "--rate", "50", "--count", "50", "--outbox", str(tmp_path / "outbox"),
                                         "--quiet"], tmp_path / "moby-sensor.log", owner=OWNER)
        sensor.start()
        started.append(sensor)
        seen: set[str] = set()
        deadline = time.monotonic() + 30
        while seen != set(DEVICES) and time.monotonic() < deadline:
            seen |= {topic.rsplit("/", 1)[1] for topic, _ in viewer.received_within(0.5)}
        assert seen == set(DEVICES), f"readings seen from {sorted(seen)}; log: {sensor.log_tail()}"
        # moby-server with the URL scripts/run gives it (no InfluxDB here: only its broker login counts).
        server = Service("moby-server", [str(BIN / "moby-server")], tmp_path / "moby-server.log", owner=OWNER,
                         env={"MOBY_MQTT_URL": server_url(var, broker.port), "MOBY_DATA_DIR": str(tmp_path / "server"),
                              "MOBY_INFLUX_URL": "http://127.0.0.1:9", "MOBY_HTTP_PORT": "0",
                              "MOBY_CATALOG_FILE": str(REPO / "config" / "sensors.json")})
        server.start()
        started.append(server)
        wait_for("moby-server to log in as moby-server",
                 lambda: "as moby-server (" in broker.service.log_tail(20000) and "u'moby-server'" in
                 broker.service.log_tail(20000), 30, 0.2)
    finally:
        for service in reversed(started):
            service.stop()
        clients.close()
        finish(broker, request)
