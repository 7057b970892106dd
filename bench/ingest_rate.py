#!/usr/bin/env python3
"""External-client ingest measurement: an independent MQTT client (paho) publishes seed-format
readings with QoS 1 as fast as the broker acknowledges them, then we wait until InfluxDB holds
every one. Prints readings/s end to end and checks exactly-once storage per (device, timestamp).
"""
import argparse
import json
import multiprocessing
import sys
import threading
import time
import urllib.parse
import urllib.request

import paho.mqtt.client as mqtt

import mqtt_login


def influx_count(url, db):
    q = urllib.parse.urlencode({"db": db, "q": "SELECT count(temperature) FROM sensors"})
    with urllib.request.urlopen(f"{url}/query?{q}", timeout=10) as r:
        body = json.load(r)
    series = body["results"][0].get("series")
    return series[0]["values"][0][1] if series else 0


def publish_share(a, base, k):
    """Publisher k of a.publishers: readings k, k+P, k+2P, ... each acknowledged (QoS 1)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"ingest-rate-{k}-{time.time_ns()}")
    mqtt_login.login(client, f"ingest-{k}")  # bench/broker-users.sh makes ingest-0 … ingest-15
    client.max_inflight_messages_set(a.inflight)
    client.max_queued_messages_set(0)
    acked = 0
    lock = threading.Lock()
    # paho's own queue gets slow (quadratic) with 100k queued messages: keep at most `inflight`
    # outstanding ourselves.
    window = threading.Semaphore(a.inflight)

    def on_publish(_c, _u, _mid, _rc, _p):
        nonlocal acked
        with lock:
            acked += 1
        window.release()

    client.on_publish = on_publish
    client.connect("127.0.0.1", a.mqtt_port, keepalive=60)
    client.loop_start()
    mine = range(k, a.readings, a.publishers)
    for i in mine:
        device = f"rate_{i % a.devices:04d}"
        ts = base + i * 1000  # unique per reading (µs steps)
        secs, ns = divmod(ts, 1_000_000_000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ns:09d}Z"
        payload = json.dumps({"device_id": device, "temperature": 20 + (i % 100) / 10, "humidity": 50,
                              "vibration": 0.12, "sound": 45.8, "timestamp": stamp})
        window.acquire()
        client.publish(f"factory/sensor/data/{device}", payload, qos=1)
    while True:
        with lock:
            if acked >= len(mine):
                break
        time.sleep(0.01)
    client.loop_stop()
    client.disconnect()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mqtt-port", type=int, required=True)
    p.add_argument("--influx-url", required=True)
    p.add_argument("--db", default="moby")
    p.add_argument("--readings", type=int, default=100_000)
    p.add_argument("--devices", type=int, default=100)
    p.add_argument("--inflight", type=int, default=1000)
    p.add_argument("--publishers", type=int, default=1, help="parallel publisher processes")
    p.add_argument("--publish-only", action="store_true", help="do not wait for InfluxDB")
    a = p.parse_args()

    before = 0 if a.publish_only else influx_count(a.influx_url, a.db)
    base = (time.time_ns() // 1_000_000_000 - 600) * 1_000_000_000
    start = time.monotonic()
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=publish_share, args=(a, base, k)) for k in range(a.publishers)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if any(w.exitcode != 0 for w in workers):
        sys.exit("a publisher failed")
    published = time.monotonic()
    if a.publish_only:
        print(json.dumps({"readings": a.readings, "publish_seconds": round(published - start, 3),
                          "publish_rate": round(a.readings / (published - start))}))
        return

    target = before + a.readings
    count = before
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        count = influx_count(a.influx_url, a.db)
        if count >= target:
            break
        time.sleep(0.05)
    stored = time.monotonic()
    result = {
        "readings": a.readings,
        "publishers": a.publishers,
        "stored": count - before,
        "publish_seconds": round(published - start, 3),
        "end_to_end_seconds": round(stored - start, 3),
        "publish_rate": round(a.readings / (published - start)),
        "ingest_rate": round(a.readings / (stored - start)),
    }
    print(json.dumps(result))
    if count != target:
        print(f"LOSS OR DUPLICATES: expected {target}, InfluxDB has {count}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
