"""InfluxDB's users as scripts/run makes them (scripts/lib.sh influx_users), against a real influxd
rendered from deploy/influxdb/influxdb.conf.in with AUTH_ENABLED=true: nobody gets in without a
user, moby-server's user writes, Grafana's user reads and cannot write, and a second run changes
nothing."""

from __future__ import annotations

import base64
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from moby_harness import REPO, Service, find_executable, free_port, render, wait_for, is_listening


def request(port: int, path: str, user: tuple[str, str] | None = None, data: bytes | None = None,
            **params: str) -> tuple[int, str]:
    url = f"http://127.0.0.1:{port}{path}?{urllib.parse.urlencode(params)}"
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if user:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_scripts_run_makes_influxdbs_users_and_their_rights(tmp_path: Path):
    port = free_port()
    (tmp_path / "influxdb.conf").write_text(render("influxdb/influxdb.conf.in", HTTP_PORT=str(port),
                                                   RPC_PORT=str(free_port()), DATA_DIR=str(tmp_path),
                                                   AUTH_ENABLED="true"))
    influxd = Service("influxd", [find_executable("influxd"), "-config", str(tmp_path / "influxdb.conf")],
                      tmp_path / "influxd.log", owner="deploy tests")
    influxd.start()
    try:
        wait_for(f"influxd on {port}", lambda: is_listening(port), 60)
        make = ["bash", "-c", f'source "{REPO}/scripts/lib.sh"; influx_users "$1" "$2"', "-", str(tmp_path), str(port)]
        for _ in range(2):  # the second run finds the users made and changes nothing
            done = subprocess.run(make, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
        passwords = {name: (tmp_path / f"{name}.password").read_text().strip() for name in ("admin", "server", "grafana")}
        assert all(len(p) >= 32 for p in passwords.values())
        assert all((tmp_path / f"{name}.password").stat().st_mode & 0o077 == 0 for name in passwords)

        status, body = request(port, "/query", q="SHOW DATABASES")
        assert status == 401, body
        server = ("moby-server", passwords["server"])
        grafana = ("moby-grafana", passwords["grafana"])
        assert request(port, "/write", server, b"sensors,device_id=a temperature=1", db="moby")[0] == 204
        status, body = request(port, "/query", grafana, db="moby", q="SELECT count(temperature) FROM sensors")
        assert status == 200 and '"values":[["1970-01-01T00:00:00Z",1]]' in body, body
        status, body = request(port, "/write", grafana, b"sensors,device_id=a temperature=2", db="moby")
        assert status == 403, (status, body)
        status, body = request(port, "/query", grafana, data=b"", q="DROP DATABASE moby")
        assert status == 403 or "error" in body, (status, body)
        status, body = request(port, "/query", ("moby-grafana", "wrong"), db="moby", q="SELECT 1")
        assert status == 401, body
    finally:
        influxd.stop()
