"""Alert latency probe: MQTT publish of the reading that completes an anomaly (the
raise-after-th anomalous one) -> `alert.raised` on moby-server's /ws WebSocket.

Each episode uses a fresh device id, so every one opens a new alert. Run it while a background
load flows (bench/alert-latency starts moby-sensor for that).
"""
import argparse
import json
import statistics
import threading
import time
from datetime import datetime, timezone

import paho.mqtt.client as mqtt
from websockets.sync.client import connect

import api_token
import mqtt_login


def reading(device, temperature):
    now = datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return json.dumps({"device_id": device, "temperature": temperature, "humidity": 45, "vibration": 2.0,
                       "sound": 65, "timestamp": now})


def measure(mqtt_port, http_port, episodes=200, raise_after=3, pause=0.2):
    """Runs `episodes` anomaly episodes; returns latency percentiles (ms) and misses."""
    raised = {}
    cond = threading.Condition()
    ws = connect(f"ws://127.0.0.1:{http_port}/ws", max_size=1 << 24, additional_headers=api_token.headers())

    def listen():
        try:
            for text in ws:
                received = time.perf_counter()
                message = json.loads(text)
                if message.get("type") == "alert.raised":
                    with cond:
                        raised[message["alert"]["device_id"]] = received
                        cond.notify_all()
        except Exception:
            pass

    threading.Thread(target=listen, daemon=True).start()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"latency-probe-{time.time_ns()}")
    mqtt_login.login(client, "latency")
    client.connect("127.0.0.1", mqtt_port)
    client.loop_start()
    run = time.time_ns()
    latencies, missing = [], 0
    for episode in range(episodes):
        device = f"probe_{run}_{episode}"
        for index in range(raise_after):
            sent = time.perf_counter()
            info = client.publish(f"factory/sensor/data/{device}", reading(device, 80.0), qos=1)
            info.wait_for_publish(5)
        with cond:
            cond.wait_for(lambda: device in raised, timeout=5)
            if device in raised:
                latencies.append((raised[device] - sent) * 1000)
            else:
                missing += 1
        time.sleep(pause)
    client.loop_stop()
    ws.close()
    return summarize(latencies, episodes, missing)


def summarize(latencies, attempts, missing):
    """Nearest-rank percentiles of latencies in ms."""
    latencies = sorted(latencies)

    def pct(p):
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))], 2)

    return {"attempts": attempts, "seen": len(latencies), "missing": missing,
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": pct(100),
            "mean_ms": round(statistics.mean(latencies), 2) if latencies else None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mqtt-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--raise-after", type=int, default=3)
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between episodes")
    args = parser.parse_args()
    print(json.dumps(measure(args.mqtt_port, args.http_port, args.episodes, args.raise_after, args.pause)))


if __name__ == "__main__":
    main()
