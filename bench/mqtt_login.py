"""Broker logins of the bench's Python clients: bench/broker-users.sh makes a gateway user
bench-<role> per role, all with the password in MOBY_BENCH_MQTT_PASSWORD (the broker makes the
user name the client id: clients that run at once need roles of their own)."""

import os
from urllib.parse import quote


def user(role: str) -> str:
    return f"bench-{role}"


def password() -> str:
    value = os.environ.get("MOBY_BENCH_MQTT_PASSWORD")
    if not value:
        raise SystemExit("MOBY_BENCH_MQTT_PASSWORD is not set: run this through bench/pipeline.sh (bench/run, …)")
    return value


def login(client, role: str) -> None:
    """Gives a paho client the credentials of role `role`."""
    client.username_pw_set(user(role), password())


def url(port: int, role: str) -> str:
    """moby-sensor's --mqtt-url for role `role`."""
    return f"mqtt://{user(role)}:{quote(password(), safe='')}@127.0.0.1:{port}"


def cli(role: str) -> list[str]:
    """mosquitto_pub/mosquitto_sub options for role `role` (a scratch broker's password on argv)."""
    return ["-u", user(role), "-P", password()]
