"""Real services for the Python test suites (tests/browser, tests/deploy) and the console's
measurement script: Mosquitto, influxd, moby-server and moby-sensor (and any other program, e.g.
Prometheus) on free loopback ports, each started as a child process, its PID recorded in
$MOBY_TEST_PIDS/<pid> (holding its name and owner) and stopped by that PID, never by name.
The same convention as Tests/MobyTestSupport/ServiceProcess.swift, so scripts/test's reaper
also stops what a crashed browser run left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MOBY_BIN", REPO / ".build" / "debug"))
WEB_DIR = Path(os.environ.get("MOBY_WEB_DIR", REPO / "web" / "dist"))
PID_DIR = Path(os.environ.get("MOBY_TEST_PIDS", REPO / ".build" / "test-pids"))


class HarnessError(AssertionError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Polls `check` until it returns something truthy; fails with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - remembered for the failure message
            last_error = error
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise HarnessError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(interval)


def render(template: str, **values: str) -> str:
    text = (REPO / "deploy" / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def user_name() -> str:
    return os.environ.get("USER") or __import__("pwd").getpwuid(os.geteuid()).pw_name


def find_executable(name: str) -> str:
    for directory in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/usr/bin", "/sbin"]:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise HarnessError(f"{name} not found on PATH (apt-get install mosquitto influxdb)")


class Service:
    """One child process with its log file; its PID is recorded while it runs."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None,
                 owner: str = "browser tests"):
        self.name = name
        self.owner = owner  # in the PID file: each suite's runner reaps only its own leftovers
        self.argv = argv
        self.log = log
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.poll() is None else None

    def start(self) -> None:
        assert self.pid is None, f"{self.name} already running"
        env = dict(os.environ)
        env.update(self.env)
        log = open(self.log, "ab")
        try:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True,  # Ctrl-C of the test run does not hit it before we stop it
            )
        finally:
            log.close()
        PID_DIR.mkdir(parents=True, exist_ok=True)
        (PID_DIR / str(self.process.pid)).write_text(f"{self.name} ({self.owner}) {self.log}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        """Sends `sig` to the PID, waits, SIGKILL after `timeout`; returns the exit status."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            try:
                os.kill(process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        (PID_DIR / str(process.pid)).unlink(missing_ok=True)
        self.process = None
        return process.returncode

    def log_tail(self, size: int = 3000) -> str:
        try:
            data = self.log.read_bytes()
        except OSError:
            return ""
        return data[-size:].decode("utf-8", "replace")


MQTT_USER_TOOL = REPO / "deploy" / "mosquitto" / "moby-mqtt-user"


class Broker:
    """Mosquitto from deploy/mosquitto/mosquitto.conf.in, authentication on, in `directory`: its
    users are made with deploy/mosquitto/moby-mqtt-user (password file `passwd`, ACL file `acl`),
    which reloads the running broker through `mosquitto.pid`. `auth` is the template's AUTH
    (empty but in tests of the test-only open broker). Passwords the harness made are kept in
    `passwords`."""

    def __init__(self, directory: Path, owner: str, auth: str = "", log: Path | None = None):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.password_file = self.dir / "passwd"
        self.acl_file = self.dir / "acl"
        self.pid_file = self.dir / "mosquitto.pid"
        self.conf = self.dir / "mosquitto.conf"
        self.passwords: dict[str, str] = {}
        self.conf.write_text(render("mosquitto/mosquitto.conf.in", PORT=str(self.port), DATA_DIR=str(self.dir),
                                    USER=user_name(), PASSWORD_FILE=str(self.password_file),
                                    ACL_FILE=str(self.acl_file), AUTH=auth))
        self.service = Service("mosquitto", [find_executable("mosquitto"), "-c", str(self.conf)],
                               log or self.dir / "mosquitto.log", owner=owner)

    @property
    def pid(self) -> int | None:
        return self.service.pid

    def tool(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Runs moby-mqtt-user on this broker's files (and PID file)."""
        result = subprocess.run([str(MQTT_USER_TOOL), "--dir", str(self.dir), "--pid-file", str(self.pid_file), *args],
                                input=stdin, capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise HarnessError(f"moby-mqtt-user {' '.join(args)}: exit {result.returncode}: {result.stderr.strip()}")
        return result

    def add_user(self, kind: str, name: str) -> str:
        """Adds a user with a password made by the tool and returns it; on a running broker, returns
        once the broker has reloaded and takes the new credentials."""
        password = self.tool("add", kind, name).stdout.strip()
        self.passwords[name] = password
        if self.pid is not None:
            wait_for(f"mosquitto to accept the new user {name}", lambda: self.can_connect(name, password), 10, 0.1)
        return password

    def can_connect(self, user: str, password: str) -> bool:
        """True when the broker accepts the credentials (mosquitto_sub, password in a config file, not argv)."""
        with tempfile.TemporaryDirectory(prefix="moby-mqtt-probe.") as home:
            (Path(home) / "mosquitto_sub").write_text(f"-u {user}\n-P {password}\n")
            result = subprocess.run([find_executable("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(self.port),
                                     "-t", "moby/probe", "-E", "-W", "5"], capture_output=True, text=True,
                                    timeout=10, env={**os.environ, "XDG_CONFIG_HOME": home})
        return result.returncode == 0

    def url(self, user: str) -> str:
        """mqtt://user:password@127.0.0.1:port (percent-encoded) for a user the harness made."""
        from urllib.parse import quote

        return f"mqtt://{quote(user, safe='')}:{quote(self.passwords[user], safe='')}@127.0.0.1:{self.port}"

    def start(self) -> None:
        self.service.start()
        self.pid_file.write_text(f"{self.service.pid}\n")
        wait_for(f"mosquitto on port {self.port} (log {self.service.log})", self.listening, 20)

    def listening(self) -> bool:
        if self.service.pid is None:
            raise HarnessError(f"mosquitto exited:\n{self.service.log_tail()}")
        return is_listening(self.port)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        self.pid_file.unlink(missing_ok=True)
        return self.service.stop(sig, timeout=30)



class Stack:
    """Mosquitto + influxd + moby-server (+ moby-sensor runs) in a temporary folder. `console`:
    the server serves web/dist (required then); `owner` goes into the PID files. `users` (name ->
    (role, password)): accounts made with moby-server's CLI before the server first starts; an
    admin API token (`token`) is always made, and `http` sends it as `Authorization: Bearer`."""

    def __init__(self, label: str = "browser", server_env: dict[str, str] | None = None,
                 console: bool = True, owner: str = "browser tests",
                 users: dict[str, tuple[str, str]] | None = None):
        base = os.environ.get("MOBY_TEST_TMP") or None
        self.console = console
        self.owner = owner
        self.dir = Path(tempfile.mkdtemp(prefix=f"moby-{label}.", dir=base))
        self.influx_port = free_port()
        self.http_port = free_port()
        self.server_env_extra = server_env or {}
        self.label = label
        self.users = dict(users or {})
        self.token: str | None = None
        self.services: list[Service] = []
        self.sensors: list[Service] = []
        for exe in ("moby-server", "moby-sensor"):
            if not (BIN / exe).is_file():
                raise HarnessError(f"{BIN / exe} is missing: build it first (swift build) or set MOBY_BIN")
        if console and not (WEB_DIR / "index.html").is_file():
            raise HarnessError(f"{WEB_DIR}/index.html is missing: run web/build first")

        # The shipped broker config, authentication on: moby-server logs in as its server user;
        # each moby-sensor run and each Publisher gets a gateway user of its own (one connection
        # per user: the broker binds the client id to the user name).
        self.broker = Broker(self.dir / "mosquitto", owner, log=self.dir / "mosquitto.log")
        self.mqtt_port = self.broker.port
        self.broker.add_user("server", "moby-server")
        influx_dir = self.dir / "influxd"
        influx_dir.mkdir()
        (influx_dir / "influxdb.conf").write_text(
            render("influxdb/influxdb.conf.in", HTTP_PORT=str(self.influx_port), RPC_PORT=str(free_port()),
                   AUTH_ENABLED="false",
                   DATA_DIR=str(influx_dir)))
        self.mosquitto = self.broker.service
        self.influxd = Service("influxd", [find_executable("influxd"), "-config", str(influx_dir / "influxdb.conf")],
                               self.dir / "influxd.log", owner=owner)
        self.data_dir = self.dir / "server"
        self.data_dir.mkdir()
        self.server = Service("moby-server", [str(BIN / "moby-server")], self.dir / "moby-server.log",
                              env=self.server_env(), owner=owner)

    # -- lifecycle ---------------------------------------------------------------------------
    def server_env(self) -> dict[str, str]:
        env = {
            "MOBY_MQTT_URL": self.broker.url("moby-server"),
            "MOBY_INFLUX_URL": f"http://127.0.0.1:{self.influx_port}",
            "MOBY_HTTP_HOST": "127.0.0.1",
            "MOBY_HTTP_PORT": str(self.http_port),
            "MOBY_DATA_DIR": str(self.data_dir),
            "MOBY_CATALOG_FILE": str(REPO / "config" / "sensors.json"),
            "MOBY_ALERT_UPDATE_MS": "500",
            "MOBY_SHUTDOWN_TIMEOUT_SECONDS": "2",
            "MOBY_LOG_LEVEL": "info",
        }
        if self.console:
            env["MOBY_WEB_DIR"] = str(WEB_DIR)
        env.update(self.server_env_extra)
        return env

    def start(self) -> "Stack":
        try:
            self.broker.start()
            self.services.append(self.mosquitto)
            self.influxd.start()
            self.services.append(self.influxd)
            wait_for(f"influxd on port {self.influx_port}", lambda: is_listening(self.influx_port), 60)
            self.provision()
            self.start_server()
        except Exception:
            self.stop()
            raise
        return self

    def start_server(self, timeout: float = 60) -> None:
        self.server.start()
        if self.server not in self.services:
            self.services.append(self.server)

        def ready() -> bool:
            if self.server.pid is None:
                raise HarnessError(f"moby-server exited:\n{self.server.log_tail()}")
            return self.http_status("/health/ready") == 200

        wait_for(f"moby-server ready on port {self.http_port} (log {self.server.log})", ready, timeout, 0.1)

    # -- accounts (moby-server users / tokens, run against the data dir) ----------------------
    def provision(self) -> None:
        """Makes `users` and the admin token, once, before the server first starts (the server
        sees later changes too, at the next request; nothing here depends on that)."""
        if self.token is not None:
            return
        for name, (role, password) in self.users.items():
            self.add_user(name, role, password)
        self.token = self.create_token("admin", name=f"{self.label} tests")

    def cli(self, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
        """Runs `moby-server <args>` with the server's environment (MOBY_DATA_DIR above all);
        returns its stdout; fails with its stderr."""
        env = {**os.environ, **self.server_env()}
        try:
            done = subprocess.run([str(BIN / "moby-server"), *args], input=stdin, env=env, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired as error:
            raise HarnessError(f"moby-server {' '.join(args)} did not finish in {timeout} s") from error
        if done.returncode != 0:
            raise HarnessError(f"moby-server {' '.join(args)} exited {done.returncode}:\n{done.stderr}{done.stdout}")
        return done.stdout

    def add_user(self, name: str, role: str, password: str) -> None:
        """`moby-server users add NAME --role ROLE --password-stdin` (the password never in argv)."""
        self.cli("users", "add", name, "--role", role, "--password-stdin", stdin=password)

    def create_token(self, role: str, device: str | None = None, name: str | None = None) -> str:
        """`moby-server tokens create`: the token's secret, printed alone on stdout."""
        args = ["tokens", "create", "--role", role]
        if device is not None:
            args += ["--device", device]
        if name is not None:
            args += ["--name", name]
        lines = [line.strip() for line in self.cli(*args).splitlines() if line.strip()]
        if len(lines) != 1:
            raise HarnessError(f"moby-server {' '.join(args)} should print the token alone: {lines!r}")
        return lines[0]

    def stop_server(self, sig: int = signal.SIGTERM) -> int | None:
        return self.server.stop(sig, timeout=30)

    def stop(self) -> None:
        for sensor in self.sensors:
            sensor.stop(signal.SIGTERM, timeout=10)
        self.sensors.clear()
        for service in reversed(self.services):
            service.stop(signal.SIGTERM, timeout=5 if service is self.influxd else 30)
        self.services.clear()

    def sensor(self, name: str, *args: str) -> Service:
        """Starts a moby-sensor run (`args` are its options); stopped with the stack or by its `stop`."""
        outbox = self.dir / f"outbox-{name}-{len(self.sensors)}"
        user = self.gateway_user(f"sensor-{name}-{len(self.sensors)}")
        service = Service(f"moby-sensor {name}",
                          [str(BIN / "moby-sensor"), "--mqtt-url", self.broker.url(user), "--outbox", str(outbox),
                           *args],
                          self.dir / f"moby-sensor-{name}.log", owner=self.owner)
        service.start()
        self.sensors.append(service)
        return service

    def gateway_user(self, name: str) -> str:
        """A gateway user (writes factory/sensor/data/+) named after `name`, made once."""
        user = re.sub(r"[^A-Za-z0-9._-]", "-", name).lstrip("._-")[:128] or "gateway"
        if user not in self.broker.passwords:
            self.broker.add_user("gateway", user)
        return user

    # -- addresses and HTTP ----------------------------------------------------------------
    @property
    def mqtt_url(self) -> str:
        """The server user's URL (credentials in it, percent-encoded)."""
        return self.broker.url("moby-server")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def http(self, path: str, method: str = "GET", body: Any = None, timeout: float = 10,
             token: str | None = None, anonymous: bool = False) -> tuple[int, Any]:
        """One request; with the admin token (or `token`) unless `anonymous`."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        bearer = None if anonymous else (token or self.token)
        if bearer:
            request.add_header("Authorization", f"Bearer {bearer}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw = error.read()
            status = error.code
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def http_status(self, path: str) -> int:
        try:
            return self.http(path, timeout=2)[0]
        except OSError:
            return 0

    def get(self, path: str) -> Any:
        status, body = self.http(path)
        if status != 200:
            raise HarnessError(f"GET {path}: HTTP {status}: {body}")
        return body

    def alerts(self, **query: str) -> list[dict[str, Any]]:
        qs = "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in query.items())
        return self.get(f"/api/v1/alerts?{qs}")["alerts"]

    def devices(self) -> list[dict[str, Any]]:
        return self.get("/api/v1/devices?limit=5000")["devices"]


def browser_login(context: Any, stack: Stack, name: str) -> list[dict[str, Any]]:
    """Logs a Playwright browser context in as `name` (one of `stack.users`): POST
    /api/v1/session through the context's own request client, so the HttpOnly `moby_session`
    cookie lands in the context's cookie jar as the server set it. Returns that cookie (to reuse
    in other contexts: `context.add_cookies`)."""
    password = stack.users[name][1]
    response = context.request.post(f"{stack.base_url}/api/v1/session", data={"name": name, "password": password})
    if response.status != 200:
        raise HarnessError(f"POST /api/v1/session as {name}: HTTP {response.status}: {response.text()}")
    cookies = [c for c in context.cookies(stack.base_url) if c["name"] == "moby_session"]
    if not cookies:
        raise HarnessError(f"POST /api/v1/session as {name} set no moby_session cookie: {response.headers}")
    return cookies


class Publisher:
    """One MQTT connection (paho, QoS 1) that publishes readings the way a device does."""

    def __init__(self, stack: Stack, client_id: str = "browser-tests"):
        import paho.mqtt.client as mqtt

        # A gateway user of its own named after the client id (the broker makes that the client id).
        user = stack.gateway_user(client_id)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        self.client.username_pw_set(user, stack.broker.passwords[user])
        self.client.max_inflight_messages_set(1000)
        self.client.connect("127.0.0.1", stack.mqtt_port, keepalive=30)
        self.client.loop_start()

    def publish(self, reading: dict[str, Any], wait: bool = True):
        info = self.client.publish(f"factory/sensor/data/{reading['device_id']}", json.dumps(reading), qos=1)
        if wait:
            info.wait_for_publish(10)
            if not info.is_published():
                raise HarnessError(f"the broker did not acknowledge a reading of {reading['device_id']}")
        return info

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def normal_reading(device: str, **values: float) -> dict[str, Any]:
    reading: dict[str, Any] = {"device_id": device, "temperature": 25.3, "humidity": 45.0, "vibration": 2.0,
                               "sound": 65.0}
    reading.update(values)
    return reading


def hot_reading(device: str, temperature: float = 75.0) -> dict[str, Any]:
    """Past the catalog's critical limit (60 °C) but physically valid (≤ 250 °C)."""
    return normal_reading(device, temperature=temperature)


def parse_time(iso: str) -> float:
    """RFC 3339 (with or without fraction, Z) -> seconds since the epoch."""
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
