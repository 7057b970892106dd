"""deploy/mosquitto/moby-mqtt-user: adding, removing and listing users, on files alone and on a
running broker that it reloads (SIGHUP) without a restart."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ARRIVE, DATA, Clients
from moby_harness import MQTT_USER_TOOL, Broker

TOOL = str(MQTT_USER_TOOL)


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TOOL, *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def digest(*paths: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else "" for p in paths]


def connects(broker: Broker, clients: Clients, user: str, password: str) -> bool:
    return not clients.new(broker, user, password).connect().failed


def eventually(what: str, check, timeout: float = ARRIVE) -> None:
    """The broker rereads its files when it handles the SIGHUP, a moment after the tool returns."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.1)


def test_a_device_added_to_a_running_broker_works_without_a_restart(fresh_broker: Broker, clients: Clients):
    pid = fresh_broker.pid
    server = clients.connected(fresh_broker, "moby-server")
    server.subscribe(f"{DATA}/+")
    assert not connects(fresh_broker, clients, "press_07", "x")
    result = fresh_broker.tool("add", "device", "press_07")
    password = result.stdout
    assert password.endswith("\n") and len(password.strip()) >= 32 and "\n" not in password.strip(), \
        f"stdout must be the password alone: {password!r}"
    password = password.strip()
    assert "reloaded mosquitto" in result.stderr
    eventually("the new device is let in", lambda: connects(fresh_broker, clients, "press_07", password))
    device = clients.connected(fresh_broker, "press_07", password)
    device.publish(f"{DATA}/press_07", "hello")
    server.wait_for(f"{DATA}/press_07", "hello")
    assert fresh_broker.pid == pid, "the broker was restarted"
    assert not server.disconnected.is_set(), "the reload dropped the server's connection"
    # Its rights are a device's: its own topic only.
    device.publish(f"{DATA}/sensor_001", "forged")
    device.publish(f"{DATA}/press_07", "marker")
    assert server.wait_for(f"{DATA}/press_07", "marker") == []


def test_a_removed_device_is_refused_and_disconnected(fresh_broker: Broker, clients: Clients):
    password = fresh_broker.add_user("device", "press_08")
    server = clients.connected(fresh_broker, "moby-server")
    connected = clients.connected(fresh_broker, "press_08", password)
    result = fresh_broker.tool("remove", "press_08")
    assert result.stdout == ""
    eventually("the removed device is refused", lambda: not connects(fresh_broker, clients, "press_08", password))
    assert connected.disconnected.wait(ARRIVE), "the removed device's open connection stayed"
    assert not server.disconnected.is_set(), "the reload dropped the server's connection"
    assert "press_08" not in fresh_broker.password_file.read_text()
    assert "press_08" not in fresh_broker.acl_file.read_text()
    assert "press_08" not in fresh_broker.tool("list").stdout
    # Removing it again changes nothing and is no error.
    before = digest(fresh_broker.password_file, fresh_broker.acl_file)
    again = fresh_broker.tool("remove", "press_08")
    assert "not a user" in again.stderr
    assert digest(fresh_broker.password_file, fresh_broker.acl_file) == before


def test_a_new_password_replaces_the_old_one(fresh_broker: Broker, clients: Clients):
    old = fresh_broker.add_user("gateway", "edge-1")
    new = fresh_broker.tool("passwd", "edge-1").stdout.strip()
    assert new and new != old
    eventually("the old password is refused", lambda: not connects(fresh_broker, clients, "edge-1", old))
    assert connects(fresh_broker, clients, "edge-1", new)
    given = "correct horse battery staple"
    result = fresh_broker.tool("passwd", "edge-1", "--password-stdin", stdin=given + "\n")
    assert result.stdout == ""
    eventually("the given password is taken", lambda: connects(fresh_broker, clients, "edge-1", given))


def test_add_with_a_given_password_and_list(tmp_path: Path):
    d = str(tmp_path)
    result = run("--dir", d, "add", "device", "sensor_001", "--password-stdin", stdin="s3cret\n")
    assert result.returncode == 0 and result.stdout == "", result
    for kind, name in [("server", "moby-server"), ("gateway", "bench-1"), ("viewer", "ops"), ("device", "a.b-c_9")]:
        assert run("--dir", d, "add", kind, name).returncode == 0
    listed = run("list", env={"MOBY_MQTT_DIR": d})
    assert listed.returncode == 0, listed
    assert listed.stdout.splitlines() == ["device a.b-c_9", "device sensor_001", "gateway bench-1",
                                          "server moby-server", "viewer ops"]
    for name in ("passwd", "acl"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"
    acl = (tmp_path / "acl").read_text()
    assert "pattern" not in acl, "a pattern line would apply to every user"
    assert acl.index("user sensor_001\ntopic write factory/sensor/data/sensor_001\n") > 0
    assert "user bench-1\ntopic write factory/sensor/data/+\n" in acl
    assert ("user moby-server\ntopic read factory/sensor/data/#\ntopic write factory/sensor/data/+\n"
            "topic write factory/alerts/#\ntopic write factory/sensor/deadletter\n") in acl
    # No topic line before the first user line: those would be anonymous clients' rights.
    head = acl[: acl.index("\nuser ")]
    assert not [line for line in head.splitlines() if line.startswith("topic")]
    # The same user again, with a password: idempotent (a new password, same rights).
    result = run("--dir", d, "add", "device", "sensor_001", "--password-stdin", stdin="other\n")
    assert result.returncode == 0, result
    assert (tmp_path / "acl").read_text() == acl


def test_conflicts_are_refused(tmp_path: Path):
    d = str(tmp_path)
    assert run("--dir", d, "add", "server", "moby-server").returncode == 0
    before = digest(tmp_path / "passwd", tmp_path / "acl")
    taken = run("--dir", d, "add", "device", "moby-server")
    assert taken.returncode == 3 and "already a server user" in taken.stderr, taken
    again = run("--dir", d, "add", "server", "moby-server")
    assert again.returncode == 3 and "passwd moby-server" in again.stderr, again
    missing = run("--dir", d, "passwd", "nobody")
    assert missing.returncode == 3 and "not a user" in missing.stderr, missing
    assert digest(tmp_path / "passwd", tmp_path / "acl") == before


@pytest.mark.parametrize("name", ["", "a/b", "a+b", "#", "sensor 1", "sensor:1", "-lead", ".hidden", "é1",
                                  "tab\tname", "x" * 129, "a\nuser admin"])
def test_bad_names_are_refused_with_a_message(tmp_path: Path, name: str):
    d = str(tmp_path)
    assert run("--dir", d, "add", "server", "moby-server").returncode == 0
    before = digest(tmp_path / "passwd", tmp_path / "acl")
    for args in (["add", "device", "--", name], ["remove", "--", name], ["passwd", "--", name]):
        result = run("--dir", d, *args)
        assert result.returncode == 2, (args, result)
        assert result.stdout == ""
        assert "name" in result.stderr and "--help" in result.stderr, result.stderr
    assert digest(tmp_path / "passwd", tmp_path / "acl") == before


def test_a_name_of_128_characters_is_taken(tmp_path: Path):
    assert run("--dir", str(tmp_path), "add", "device", "d" * 128).returncode == 0


@pytest.mark.parametrize("args, message", [
    ([], "no command"),
    (["add", "admin", "x"], "unknown kind"),
    (["add", "device"], "usage"),
    (["frobnicate"], "unknown command"),
    (["list", "--bogus"], "unknown option"),
    (["remove", "x", "--password-stdin"], "--password-stdin goes with"),
    (["add", "device", "x", "--alert-topic", "factory/#"], "plain topic"),
])
def test_usage_errors(tmp_path: Path, args: list[str], message: str):
    result = run("--dir", str(tmp_path), *args)
    assert result.returncode == 2 and message in result.stderr, result


def test_where_the_files_are_must_be_said():
    result = subprocess.run([TOOL, "list"], capture_output=True, text=True, timeout=30,
                            env={k: v for k, v in os.environ.items() if not k.startswith("MOBY_MQTT_")})
    assert result.returncode == 2 and "--dir" in result.stderr, result


def test_help():
    result = run("--help")
    assert result.returncode == 0
    for word in ("add KIND NAME", "remove NAME", "list", "--password-stdin", "--pid-file", "gateway", "viewer"):
        assert word in result.stdout


def test_an_acl_file_it_did_not_write_is_left_alone(tmp_path: Path):
    acl = tmp_path / "acl"
    acl.write_text("user admin\ntopic readwrite #\n")
    result = run("--dir", str(tmp_path), "add", "device", "sensor_001")
    assert result.returncode == 1 and "not written by moby-mqtt-user" in result.stderr, result
    assert acl.read_text() == "user admin\ntopic readwrite #\n"


def test_a_pid_file_of_another_program_is_not_signalled(tmp_path: Path):
    pid_file = tmp_path / "broker.pid"
    pid_file.write_text(f"{os.getpid()}\n")  # this test process: not mosquitto
    result = run("--dir", str(tmp_path), "--pid-file", str(pid_file), "add", "device", "sensor_001")
    assert result.returncode == 4 and "not mosquitto" in result.stderr, result
    assert "sensor_001" in (tmp_path / "acl").read_text(), "the files are written all the same"
    gone = run("--dir", str(tmp_path), "remove", "sensor_001", env={"MOBY_MQTT_PID_FILE": str(tmp_path / "none")})
    assert gone.returncode == 0 and "reads them when it starts" in gone.stderr, gone


def test_the_topics_are_recorded_and_kept(tmp_path: Path):
    d = str(tmp_path)
    first = run("--dir", d, "--alert-topic", "plant/alerts", "--dead-letter-topic", "plant/dead", "add", "server", "s1")
    assert first.returncode == 0, first
    assert run("--dir", d, "add", "device", "sensor_001").returncode == 0
    acl = (tmp_path / "acl").read_text()
    assert "topic write plant/alerts/#\ntopic write plant/dead\n" in acl
    assert "factory/alerts" not in acl
    # The server's own variables change them, for everyone at once.
    env = {"MOBY_ALERT_TOPIC": "factory/alerts"}
    assert run("--dir", d, "add", "device", "sensor_002", env=env).returncode == 0
    assert "topic write factory/alerts/#\ntopic write plant/dead\n" in (tmp_path / "acl").read_text()
