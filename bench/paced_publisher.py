#!/usr/bin/env python3
"""Publishes readings the way a real fleet does: every device on its own schedule, once per
period, the devices' schedules spread evenly over the period, so the broker sees an even
stream (not the bursts of moby-sensor's outbox drain). QoS 1. Prints a JSON summary at the end:
how many were published and acknowledged, and how late the publisher ran behind its schedule.

    paced_publisher.py --port 1883 --devices 100 --rate 5000 --seconds 10
"""
import argparse
import json
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
    parser.add_argument("--clock-anchor", help="WALL_NS,MONOTONIC_NS: stamp readings with that wall clock, advanced by "
                        "the monotonic clock (a VM's wall clock can step); the listener measures on the same clock")
    a = parser.parse_args()

    anchor_wall, anchor_monotonic = (map(int, a.clock_anchor.split(",")) if a.clock_anchor
                                     else (time.time_ns(), time.monotonic_ns()))
    acknowledged = 0

    def on_publish(client, userdata, mid, reason_code, properties):
        nonlocal acknowledged
        acknowledged += 1

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"paced-{time.time_ns()}")
    mqtt_login.login(client, "paced")
    # No window (0): with one, paho walks every unacknowledged message on each acknowledgement,
    # which a publisher that fell behind (thousands outstanding) cannot afford at 5,000/s.
    client.max_inflight_messages_set(0)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect("127.0.0.1", a.port)

    # One thread: each publish goes to the socket at once, and the waits between them read the
    # acknowledgements (at least every 50 publishes when behind). With paho's network thread
    # (loop_start) and a window of 10,000, a publisher that fell behind once never caught up:
    # nothing reached the broker for seconds at a time, and the benchmark measured its own
    # publisher (a p99 of 26 s).
    devices = [f"{a.prefix}{d:04d}" for d in range(a.devices)]
    interval = 1.0 / a.rate  # device d publishes at offset d * interval in each period
    total = int(a.rate * a.seconds)
    started = time.perf_counter()
    late = []
    for index in range(total):
        due = started + index * interval
        while (now := time.perf_counter()) < due:
            client.loop(timeout=due - now)
        if index % 50 == 0:
            client.loop(timeout=0)
        late.append(now - due)
        device = devices[index % a.devices]
        # The send time, not the schedule: publish -> stored latency is measured from it.
        ns = anchor_wall + time.monotonic_ns() - anchor_monotonic
        client.publish(f"factory/sensor/data/{device}", seed_reading(device, ns, index), qos=1)
    elapsed = time.perf_counter() - started
    deadline = time.perf_counter() + 30
    while acknowledged < total and time.perf_counter() < deadline:
        client.loop(timeout=0.05)
    client.disconnect()
    late.sort()
    print(json.dumps({
        "published": total, "acknowledged": acknowledged, "seconds": round(elapsed, 2),
        "rate": round(total / elapsed), "late_p99_ms": round(late[int(0.99 * (len(late) - 1))] * 1000, 2),
    }))


if __name__ == "__main__":
    main()
