"""Fixtures of the broker credential and ACL tests: real Mosquitto brokers rendered from the
shipped deploy/mosquitto/mosquitto.conf.in (tests/harness Broker: PID recorded, stopped by PID),
users made with deploy/mosquitto/moby-mqtt-user, and paho-mqtt clients whose every wait is
bounded."""

from __future__ import annotations

import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

from moby_harness import Broker  # noqa: E402

OWNER = "mqtt tests"
DATA = "factory/sensor/data"
ALERTS = "factory/alerts"
DEAD_LETTER = "factory/sensor/deadletter"
# How long a test waits for a message that must arrive, and for one that must not.
ARRIVE = 10.0
ABSENT = 1.0


@dataclass
class Connack:
    failed: bool
    reason: str
    session_present: bool


class Client:
    """One paho connection (MQTT 3.1.1). Received messages go to a queue; `connect` returns the
    broker's CONNACK (refused connections are not retried)."""

    def __init__(self, port: int, user: str | None, password: str | None, client_id: str = "",
                 clean_session: bool = True):
        self.port = port
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=clean_session, protocol=mqtt.MQTTv311)
        if user is not None:
            self.client.username_pw_set(user, password)
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connacks: queue.Queue[Connack] = queue.Queue()
        self.disconnected = threading.Event()
        self.subscribed: queue.Queue[list] = queue.Queue()
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, m.payload))
        self.client.on_disconnect = lambda *_a: self.disconnected.set()
        self.client.on_subscribe = lambda _c, _u, _mid, codes, _p: self.subscribed.put(codes)
        self.started = False

    def _on_connect(self, _client, _userdata, flags, reason_code, _properties) -> None:
        self.connacks.put(Connack(reason_code.is_failure, str(reason_code), bool(flags.session_present)))

    def connect(self, timeout: float = ARRIVE) -> Connack:
        self.disconnected.clear()
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        self.started = True
        try:
            connack = self.connacks.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no CONNACK within {timeout} s") from None
        if connack.failed:
            self.close()  # no automatic reconnection after a refusal
        return connack

    def subscribe(self, topic: str, qos: int = 1) -> None:
        result, _mid = self.client.subscribe(topic, qos)
        assert result == mqtt.MQTT_ERR_SUCCESS, f"SUBSCRIBE {topic}: {result}"
        codes = self.subscribed.get(timeout=ARRIVE)
        assert not any(code.is_failure for code in codes), f"SUBACK {topic}: {codes}"

    def publish(self, topic: str, payload: str, qos: int = 1) -> None:
        """Publishes and waits for the broker's PUBACK (Mosquitto 2.0 acknowledges a publish the
        ACL denies too: whether it went anywhere is seen at a subscriber only)."""
        info = self.client.publish(topic, payload, qos=qos)
        info.wait_for_publish(ARRIVE)
        assert info.is_published(), f"no PUBACK for {topic} within {ARRIVE} s"

    def wait_for(self, topic: str, payload: str, timeout: float = ARRIVE) -> list[tuple[str, str]]:
        """Waits for that message; returns everything received before it (in order)."""
        before: list[tuple[str, str]] = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{payload!r} on {topic} did not arrive within {timeout} s; got {before}")
            try:
                got_topic, got_payload = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            message = (got_topic, got_payload.decode("utf-8", "replace"))
            if message == (topic, payload):
                return before
            before.append(message)

    def received_within(self, seconds: float = ABSENT) -> list[tuple[str, str]]:
        """Everything that arrives within `seconds` (a bounded wait for messages that must not)."""
        got: list[tuple[str, str]] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                topic, payload = self.messages.get(timeout=left)
            except queue.Empty:
                break
            got.append((topic, payload.decode("utf-8", "replace")))
        return got

    def close(self) -> None:
        if self.started:
            try:
                self.client.disconnect()
            finally:
                self.client.loop_stop()
                self.started = False


class Clients:
    """Makes clients and closes them all at the end of a test."""

    def __init__(self) -> None:
        self.all: list[Client] = []

    def new(self, broker: Broker, user: str | None, password: str | None = None, **options) -> Client:
        if user is not None and password is None:
            password = broker.passwords[user]
        client = Client(broker.port, user, password, **options)
        self.all.append(client)
        return client

    def connected(self, broker: Broker, user: str | None, password: str | None = None, **options) -> Client:
        client = self.new(broker, user, password, **options)
        connack = client.connect()
        assert not connack.failed, f"{user} was refused: {connack.reason}"
        return client

    def close(self) -> None:
        for client in self.all:
            client.close()


@pytest.fixture
def clients():
    made = Clients()
    yield made
    made.close()


def new_broker(label: str, auth: str = "") -> Broker:
    base = os.environ.get("MOBY_TEST_TMP") or None
    return Broker(Path(tempfile.mkdtemp(prefix=f"moby-mqtt-{label}.", dir=base)), OWNER, auth=auth)


def finish(broker: Broker, request) -> None:
    broker.stop()
    if request.session.testsfailed == 0:
        shutil.rmtree(broker.dir, ignore_errors=True)
    else:
        print(f"\nbroker folder and log: {broker.dir}")


@pytest.fixture(scope="module")
def broker(request):
    """One broker for the ACL tests: the server user, two devices, a gateway and a viewer."""
    broker = new_broker("acl")
    for kind, name in [("server", "moby-server"), ("device", "sensor_001"), ("device", "sensor_002"),
                       ("gateway", "edge-gw"), ("viewer", "ops")]:
        broker.add_user(kind, name)
    broker.start()
    yield broker
    finish(broker, request)


@pytest.fixture
def fresh_broker(request):
    """A broker of the test's own, started with only the server user (for moby-mqtt-user tests)."""
    broker = new_broker("users")
    broker.add_user("server", "moby-server")
    broker.start()
    yield broker
    finish(broker, request)
