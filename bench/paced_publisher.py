#!/usr/bin/env python3
"""Publishes readings the way a real fleet does: every device on its own schedule, once per
period, the devices' schedules spread evenly over the period, so the broker sees an even
stream (not the bursts of moby-sensor's outbox drain). QoS 1. Prints a JSON summary at the end:
how many were published and acknowledged, and how late the publisher ran behind its schedule.

    paced_publisher.py --port 1883 --devices 100 --rate 5000 --seconds 10
"""
import argparse
import json
import threading
import time

import paho.mqtt.client as mqtt

from bench import seed_reading

import mqtt_login


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--rate", type=float, default=5000, help="readings per second over all devices")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--prefix", default="paced-")
    a = parser.parse_args()

    acknowledged = 0
    lock = threading.Lock()

    def on_publish(client, userdata, mid, reason_code, properties):
        nonlocal acknowledged
        with lock:
            acknowledged += 1

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"paced-{time.time_ns()}")
    mqtt_login.login(client, "paced")
    client.max_inflight_messages_set(10_000)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect("127.0.0.1", a.port)
    client.loop_start()

    devices = [f"{a.prefix}{d:04d}" for d in range(a.devices)]
    interval = 1.0 / a.rate  # device d publishes at offset d * interval in each period
    total = int(a.rate * a.seconds)
    started = time.perf_counter()
    wall = time.time_ns()
    late = []
    for index in range(total):
        due = started + index * interval
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        late.append(max(0.0, time.perf_counter() - due))
        device = devices[index % a.devices]
        ns = wall + int(index * interval * 1e9)
        client.publish(f"factory/sensor/data/{device}", seed_reading(device, ns, index), qos=1)
    elapsed = time.perf_counter() - started
    deadline = time.time() + 30
    while time.time() < deadline:
        with lock:
            if acknowledged >= total:
                break
        time.sleep(0.05)
    client.loop_stop()
    client.disconnect()
    late.sort()
    print(json.dumps({
        "published": total, "acknowledged": acknowledged, "seconds": round(elapsed, 2),
        "rate": round(total / elapsed), "late_p99_ms": round(late[int(0.99 * (len(late) - 1))] * 1000, 2),
    }))


if __name__ == "__main__":
    main()
