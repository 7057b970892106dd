"""Who may connect, as which client id, and who may read and write which topic on the shipped
broker config. Messages that must not get through are checked at a subscriber that would see
them: each test then sends a marker the same subscriber may see, and since Mosquitto delivers
one subscriber's messages in order, everything denied before the marker would have arrived
before it; a short bounded wait after the marker catches stragglers."""

from __future__ import annotations

import uuid

from conftest import ABSENT, ALERTS, DATA, DEAD_LETTER, OWNER, Clients, finish, new_broker
from moby_harness import Service, find_executable, render, user_name, wait_for


def unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}"


def test_anonymous_clients_are_refused(broker, clients: Clients):
    for client_id in ("", "moby-server", "sensor_001"):
        connack = clients.new(broker, None, client_id=client_id).connect()
        assert connack.failed, f"an anonymous client (client id {client_id!r}) was let in"


def test_wrong_password_and_unknown_user_are_refused(broker, clients: Clients):
    connack = clients.new(broker, "sensor_001", "not-the-password").connect()
    assert connack.failed, f"a wrong password was taken: {connack}"
    connack = clients.new(broker, "sensor_001", "").connect()
    assert connack.failed, "an empty password was taken"
    connack = clients.new(broker, "sensor_999", broker.passwords["sensor_001"]).connect()
    assert connack.failed, "a user that is not in the password file was let in"
    # The right password still works (the refusals above are about the credentials).
    assert not clients.new(broker, "sensor_001").connect().failed


def test_a_device_publishes_its_own_topic_and_the_server_receives_it(broker, clients: Clients):
    server = clients.connected(broker, "moby-server", client_id=unique("server"))
    server.subscribe(f"{DATA}/+")
    device = clients.connected(broker, "sensor_001", client_id="sensor_001")
    payload = unique("reading")
    device.publish(f"{DATA}/sensor_001", payload)
    assert server.wait_for(f"{DATA}/sensor_001", payload) == []


def test_a_device_writes_no_other_topic(broker, clients: Clients):
    viewer = clients.connected(broker, "ops", client_id="ops")
    viewer.subscribe("factory/#")
    server = clients.connected(broker, "moby-server", client_id=unique("server"))
    server.subscribe(f"{DATA}/#")
    device = clients.connected(broker, "sensor_001")
    denied = [f"{DATA}/sensor_002", f"{DATA}/sensor_001/extra", f"{DATA}/moby-server", f"{ALERTS}/x",
              f"{ALERTS}/sensor_001", ALERTS, DEAD_LETTER, "factory/other"]
    payload = unique("forged")
    for topic in denied:
        device.publish(topic, payload)  # acknowledged all the same (Mosquitto 2.0)
    marker = unique("marker")
    device.publish(f"{DATA}/sensor_001", marker)
    seen = viewer.wait_for(f"{DATA}/sensor_001", marker) + viewer.received_within(ABSENT)
    assert [m for m in seen if m[1] == payload] == [], f"denied publishes reached a reader: {seen}"
    seen = server.wait_for(f"{DATA}/sensor_001", marker) + server.received_within(ABSENT)
    assert [m for m in seen if m[1] == payload] == [], f"denied publishes reached the server: {seen}"


def test_a_device_using_the_server_client_id_leaves_the_server_session_alone(broker, clients: Clients):
    # The server's persistent session with a QoS 1 subscription, then offline.
    server = clients.connected(broker, "moby-server", client_id="moby-server", clean_session=False)
    server.subscribe(f"{DATA}/+")
    server.close()
    device = clients.connected(broker, "sensor_001")
    queued = [unique(f"queued-{n}") for n in range(3)]
    for payload in queued:
        device.publish(f"{DATA}/sensor_001", payload)
    # Without the binding of client id to user name, a clean session under the id moby-server
    # would discard the server's session and its queue, and a persistent one would take it over.
    for clean in (True, False):
        intruder = clients.new(broker, "sensor_002", client_id="moby-server", clean_session=clean)
        connack = intruder.connect()
        assert not connack.failed, connack
        assert not connack.session_present, "the device was handed the server's session"
        intruder.close()
    # The server comes back (under another client id, even: the user name is the client id).
    server = clients.new(broker, "moby-server", client_id="anything", clean_session=False)
    connack = server.connect()
    assert not connack.failed and connack.session_present, f"the server's session is gone: {connack}"
    for payload in queued:
        server.wait_for(f"{DATA}/sensor_001", payload)
    server.client.unsubscribe(f"{DATA}/+")


def test_one_connection_per_credential(broker, clients: Clients):
    first = clients.connected(broker, "sensor_002", client_id="first")
    assert not first.disconnected.is_set()
    clients.connected(broker, "sensor_002", client_id="second")
    assert first.disconnected.wait(10), "two connections with one credential at once"


def test_the_server_writes_alerts_and_dead_letters_which_only_a_viewer_reads(broker, clients: Clients):
    viewer = clients.connected(broker, "ops")
    viewer.subscribe("factory/#")
    device = clients.connected(broker, "sensor_001")
    device.subscribe("#")
    gateway = clients.connected(broker, "edge-gw")
    gateway.subscribe(f"{ALERTS}/#")
    gateway.subscribe(DEAD_LETTER)
    server = clients.connected(broker, "moby-server", client_id=unique("server"))
    server.subscribe(f"{ALERTS}/#")
    alert, dead = unique("alert"), unique("dead-letter")
    forged = unique("forged")
    # Beyond alerts and dead letters, the server writes only device topics (POST /publish).
    for topic in (f"{DATA}/a/b", "factory/other", f"{DEAD_LETTER}/x"):
        server.publish(topic, forged)
    server.publish(f"{ALERTS}/sensor_001", alert)
    server.publish(DEAD_LETTER, dead)
    before = viewer.wait_for(f"{ALERTS}/sensor_001", alert)
    assert [m for m in before if m[1] == forged] == [], f"the server wrote beyond its topics: {before}"
    viewer.wait_for(DEAD_LETTER, dead)
    for who, client in (("a device", device), ("a gateway", gateway), ("the server", server)):
        got = client.received_within(ABSENT)
        assert got == [], f"{who} read {got}"


def test_the_server_relays_readings_of_http_devices(broker, clients: Clients):
    """POST /publish: moby-server publishes an HTTP device's reading to that device's topic."""
    viewer = clients.connected(broker, "ops")
    viewer.subscribe(f"{DATA}/+")
    server = clients.connected(broker, "moby-server", client_id=unique("server"))
    payload = unique("http-reading")
    server.publish(f"{DATA}/sensor_100", payload)
    viewer.wait_for(f"{DATA}/sensor_100", payload)


def test_a_gateway_writes_every_device_topic_but_not_alerts(broker, clients: Clients):
    viewer = clients.connected(broker, "ops")
    viewer.subscribe("factory/#")
    server = clients.connected(broker, "moby-server", client_id=unique("server"))
    server.subscribe(f"{DATA}/+")
    gateway = clients.connected(broker, "edge-gw", client_id="moby-sensor-1234")
    readings = {f"{DATA}/{device}": unique(device) for device in ("sensor_001", "sensor_002", "press_07")}
    for topic, payload in readings.items():
        gateway.publish(topic, payload)
    forged = unique("forged")
    for topic in (f"{ALERTS}/sensor_001", DEAD_LETTER, f"{DATA}/a/b", "factory/other"):
        gateway.publish(topic, forged)
    marker = unique("marker")
    gateway.publish(f"{DATA}/marker", marker)
    for topic, payload in readings.items():
        server.wait_for(topic, payload)
    seen = viewer.wait_for(f"{DATA}/marker", marker) + viewer.received_within(ABSENT)
    assert [m for m in seen if m[1] == forged] == [], f"the gateway wrote beyond readings: {seen}"
    assert {m for m in seen if m[0] in readings} == set(readings.items())


def test_a_viewer_writes_nothing(broker, clients: Clients):
    viewer = clients.connected(broker, "ops")
    viewer.subscribe("factory/#")
    forged = unique("forged")
    for topic in (f"{DATA}/ops", f"{DATA}/sensor_001", f"{ALERTS}/x", DEAD_LETTER):
        viewer.publish(topic, forged)
    device = clients.connected(broker, "sensor_001")
    marker = unique("marker")
    device.publish(f"{DATA}/sensor_001", marker)
    seen = viewer.wait_for(f"{DATA}/sensor_001", marker) + viewer.received_within(ABSENT)
    assert [m for m in seen if m[1] == forged] == [], seen


def test_a_template_rendered_without_auth_does_not_start(tmp_path):
    """AUTH left out stays as text in the config, and Mosquitto refuses it (no silent default)."""
    (tmp_path / "passwd").write_text("")
    (tmp_path / "acl").write_text("")
    conf = render("mosquitto/mosquitto.conf.in", PORT="1", DATA_DIR=str(tmp_path), USER=user_name(),
                  PASSWORD_FILE=str(tmp_path / "passwd"), ACL_FILE=str(tmp_path / "acl"))
    (tmp_path / "mosquitto.conf").write_text(conf)
    service = Service("mosquitto", [find_executable("mosquitto"), "-c", str(tmp_path / "mosquitto.conf")],
                      tmp_path / "mosquitto.log", owner=OWNER)
    service.start()
    try:
        process = service.process
        wait_for("mosquitto to refuse the config", lambda: process.poll() is not None, 10)
        assert process.returncode != 0
        assert "@AUTH@" in service.log_tail()
    finally:
        service.stop()


def test_the_open_broker_of_protocol_tests_asks_for_it_explicitly(request, clients: Clients):
    """The recipe in the template's header comment: an anonymous broker for protocol tests only."""
    broker = new_broker("open", auth="allow_anonymous true\nuse_username_as_clientid false")
    broker.password_file.write_text("")
    broker.acl_file.write_text("pattern readwrite #\n")
    broker.start()
    try:
        subscriber = clients.connected(broker, None, client_id="protocol-sub")
        subscriber.subscribe("any/topic")
        publisher = clients.connected(broker, None, client_id="protocol-pub")
        payload = unique("open")
        publisher.publish("any/topic", payload)
        subscriber.wait_for("any/topic", payload)
    finally:
        clients.close()
        finish(broker, request)
