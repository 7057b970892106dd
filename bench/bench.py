#!/usr/bin/env python3
"""The MOBY benchmark (`make bench`): with Mosquitto, InfluxDB and a release moby-server already
started by bench/run, measures in one go

  1. the broker's ceiling: mosquitto_pub (QoS 1) -> Mosquitto -> mosquitto_sub (QoS 1, discards);
  2. InfluxDB's ceiling: pre-encoded line protocol in 5,000-line batches;
  3. the whole pipeline: moby-sensor load mode -> Mosquitto -> moby-server -> InfluxDB at full
     speed, counted in InfluxDB (zero loss), with every process's CPU per reading, over several
     runs (median and spread);
  4. under a 5,000 readings/s background: publish -> stored in InfluxDB (InfluxDB forwards each
     write to a UDP subscription) and publish -> alert on the WebSocket, p50/p99; moby-server's
     CPU per reading at that rate;

then prints a table against the targets and writes everything as JSON.
"""
import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.dirname(__file__))
import alert_latency  # noqa: E402
from forwarded_writes import ForwardedWrites  # noqa: E402
import api_token  # noqa: E402
import mqtt_login  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


# MARK: Processes and services


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def steal_seconds():
    """Time the host gave this VM's CPUs to others (the `steal` column of /proc/stat)."""
    with open("/proc/stat") as f:
        return int(f.readline().split()[8]) / TICKS


def pressure_seconds():
    """Seconds some task waited for a CPU and for the disk since boot (/proc/pressure, "some")."""
    waited = {}
    for resource in ("cpu", "io"):
        try:
            with open(f"/proc/pressure/{resource}") as f:
                waited[resource] = int(f.readline().rsplit("total=", 1)[1]) / 1e6
        except OSError:
            waited[resource] = 0.0
    return waited


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


class Influx:
    def __init__(self, port):
        self.url = f"http://127.0.0.1:{port}"

    def query(self, q, db=None, method="GET"):
        params = {"q": q}
        if db:
            params["db"] = db
        data = urllib.parse.urlencode(params).encode()
        if method == "GET":
            request = urllib.request.Request(f"{self.url}/query?{data.decode()}")
        else:
            request = urllib.request.Request(f"{self.url}/query", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def stats(self, name):
        """The `values` of every /debug/vars entry called `name` (one per shard for the tsm1 ones)."""
        with urllib.request.urlopen(f"{self.url}/debug/vars", timeout=30) as response:
            stats = json.load(response)
        return [v["values"] for v in stats.values() if isinstance(v, dict) and v.get("name") == name]

    def snapshot_ms(self):
        """Milliseconds InfluxDB spent writing its in-memory cache to TSM files so far (a snapshot
        every 25 MB of values takes a few hundred ms, in which both cores go to it and writes wait)."""
        return sum(v.get("WALCompactionTimeMs", 0) for v in self.stats("tsm1_cache"))

    def compaction_ms(self):
        """Milliseconds InfluxDB spent merging TSM files (level, full and optimize compactions)
        so far: like a snapshot, work on both cores that writes wait behind."""
        return round(sum(value for engine in self.stats("tsm1_engine") for key, value in engine.items()
                         if key.endswith("CompactionDuration") and not key.startswith("cache")) / 1e6)

    def compacting(self):
        """Compactions (snapshots included) running now."""
        return sum(value for engine in self.stats("tsm1_engine") for key, value in engine.items()
                   if key.endswith("CompactionsActive"))

    def count(self, db, measurement, where=""):
        try:
            body = self.query(f"SELECT count(temperature) FROM {measurement} {where}", db=db)
        except Exception:
            return 0
        series = body["results"][0].get("series")
        return series[0]["values"][0][1] if series else 0

    def write(self, db, body):
        request = urllib.request.Request(f"{self.url}/write?db={db}&precision=ns", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()


def metrics(http_port):
    """Every sample of moby-server's `/metrics`, by name with labels, from one request."""
    request = urllib.request.Request(f"http://127.0.0.1:{http_port}/metrics", headers=api_token.headers())
    with urllib.request.urlopen(request, timeout=10) as response:
        samples = {}
        for line in response.read().decode().splitlines():
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#"):
                samples[parts[0]] = float(parts[1])
        return samples


def metric(http_port, name):
    return metrics(http_port).get(name, 0.0)


def rfc3339(ns):
    seconds, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def seed_reading(device, ns, index):
    """A reading in the seed's format, every metric present (what moby-sensor sends)."""
    return json.dumps({
        "device_id": device, "timestamp": rfc3339(ns), "temperature": 24.5 + index % 10 / 10,
        "humidity": 45.2, "vibration": 1.25, "sound": 62.5, "accel": {"x": 0.01, "y": -0.02, "z": 9.81},
        "gyro": {"x": 0.1, "y": 0.2, "z": -0.1}, "cycle_count": 1000 + index,
    }, separators=(",", ":"))


def say(text):
    print(f"\033[1m[bench]\033[0m {text}", file=sys.stderr, flush=True)


def sensor(a, name, *options, log_name=None):
    """Starts moby-sensor in load mode as broker user bench-sensor-<name>; its JSON log goes to
    <dir>/<log_name or name>.log."""
    log = open(os.path.join(a.dir, f"{log_name or name}.log"), "w")
    command = [os.path.join(a.bin, "moby-sensor"), "--mqtt-url", mqtt_login.url(a.mqtt_port, f"sensor-{name}"),
               "--outbox", os.path.join(a.dir, f"outbox-{name}"), "--client-id", f"bench-{name}",
               "--log-format", "json", *map(str, options)]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), log.name


def acknowledged(log_path):
    """The last `acknowledged` count moby-sensor logged."""
    found = 0
    with open(log_path) as f:
        for line in f:
            match = re.search(r'"acknowledged"\s*:\s*"?(\d+)', line) or re.search(r"acknowledged=(\d+)", line)
            if match:
                found = int(match.group(1))
    return found


# MARK: Stages


def broker_ceiling(a, publishers=4):
    """QoS 1 both ways through Mosquitto, with its own C clients: `publishers` mosquitto_pub
    processes (one alone is held back by its window of 20 messages in flight) and one
    mosquitto_sub that counts and discards."""
    n = a.broker_messages - a.broker_messages % publishers
    base = time.time_ns()
    paths = []
    for p in range(publishers):
        path = os.path.join(a.dir, f"ceiling-{p}.jsonl")
        with open(path, "w") as f:
            for i in range(p, n, publishers):
                f.write(seed_reading(f"ceiling_{i % 1000:04d}", base + i * 1000, i) + "\n")
        paths.append(path)
    say(f"broker ceiling: {n} QoS 1 messages, {publishers} × mosquitto_pub -> mosquitto_sub…")
    received = os.path.join(a.dir, "ceiling-received.txt")
    with open(received, "w") as sink:
        sub = subprocess.Popen(["mosquitto_sub", "-p", str(a.mqtt_port), *mqtt_login.cli("ceiling-sub"), "-q", "1",
                                "-t", "bench/ceiling", "-C", str(n),
                                "-i", f"ceiling-sub-{os.getpid()}", "-F", "%m"], stdout=sink)
    time.sleep(1.0)  # subscribed
    broker_cpu = cpu_seconds(a.mosquitto_pid)
    started = time.perf_counter()
    pubs = []
    for p, path in enumerate(paths):
        with open(path) as lines:
            pubs.append(subprocess.Popen(["mosquitto_pub", "-p", str(a.mqtt_port), *mqtt_login.cli(f"ceiling-{p}"),
                                          "-q", "1", "-t", "bench/ceiling",
                                          "-l", "-i", f"ceiling-pub-{p}-{os.getpid()}"], stdin=lines))
    for pub in pubs:
        pub.wait(timeout=300)
    try:
        sub.wait(timeout=60)
    except subprocess.TimeoutExpired:
        sub.kill()
        with open(received) as f:
            got = sum(1 for _ in f)
        raise SystemExit(f"broker ceiling: the subscriber received {got} of {n} messages")
    elapsed = time.perf_counter() - started
    return {"messages": n, "publishers": publishers, "seconds": round(elapsed, 2), "readings_per_s": round(n / elapsed),
            "mosquitto_us_per_message": round((cpu_seconds(a.mosquitto_pid) - broker_cpu) * 1e6 / n, 1)}


def influx_ceiling(a):
    """Pre-encoded lines shaped like moby-server's (13 fields), 5,000 per request, 2 writers."""
    influx = Influx(a.influx_port)
    db = "bench_ceiling"
    influx.query(f"DROP DATABASE {db}", method="POST")
    influx.query(f"CREATE DATABASE {db}", method="POST")
    batch, batches = 5_000, a.influx_batches
    base = time.time_ns() - 3_600 * 10**9
    bodies = []
    for b in range(batches):
        lines = []
        for i in range(b * batch, (b + 1) * batch):
            lines.append(
                f"sensors,device_id=ceiling_{i % 1000:04d} temperature={24.5 + i % 10 / 10},humidity=45.2,"
                f"vibration=1.25,sound=62.5,accel_x=0.01,accel_y=-0.02,accel_z=9.81,gyro_x=0.1,gyro_y=0.2,"
                f"gyro_z=-0.1,cycle_count={1000 + i}i,anomaly_score=0.42 {base + i * 1000}")
        bodies.append(("\n".join(lines) + "\n").encode())
    say(f"InfluxDB ceiling: {batches} batches of {batch} lines, 2 concurrent writers…")
    influx_cpu = cpu_seconds(a.influxd_pid)
    queue = list(reversed(bodies))
    lock = threading.Lock()

    def writer():
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            influx.write(db, body)

    started = time.perf_counter()
    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    total = batch * batches
    stored = influx.count(db, "sensors")
    result = {"points": total, "stored": stored, "seconds": round(elapsed, 2), "points_per_s": round(total / elapsed),
              "influxd_us_per_point": round((cpu_seconds(a.influxd_pid) - influx_cpu) * 1e6 / total, 1)}
    influx.query(f"DROP DATABASE {db}", method="POST")
    if stored != total:
        raise SystemExit(f"InfluxDB ceiling: stored {stored} of {total}")
    return result


def pipeline_run(a, run):
    """One full-speed run: moby-sensor offers more than the machine can carry; the rate InfluxDB
    fills at is the pipeline's sustained rate. Every acknowledged reading must be counted in
    InfluxDB."""
    influx = Influx(a.influx_port)
    total = a.pipeline_readings
    before = influx.count("moby", "sensors")
    pids = {"moby-server": a.server_pid, "mosquitto": a.mosquitto_pid, "influxd": a.influxd_pid}
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    say(f"pipeline: run {run + 1}/{a.pipeline_runs}, moby-sensor offers {a.pipeline_rate}/s from 1,000 devices, "
        f"{total} readings…")
    started = time.perf_counter()
    process, log = sensor(a, "pipeline", "--devices", 1000, "--rate", a.pipeline_rate, "--count", total,
                          log_name=f"pipeline{run}")
    samples, sensor_cpu, sensor_rss = [], 0.0, 0.0
    last_change, last_count = time.perf_counter(), -1
    try:
        while True:
            time.sleep(1.0)
            count = influx.count("moby", "sensors") - before
            now = time.perf_counter()
            samples.append((now - started, count))
            if process.poll() is None:
                sensor_cpu = cpu_seconds(process.pid)
                sensor_rss = max(sensor_rss, peak_rss_mb(process.pid) or 0)
            if count != last_count:
                last_change, last_count = now, count
            if count >= total or now - last_change > 30:
                break
        process.wait(timeout=60)
    finally:
        # A run that went wrong (a refused login, a stalled pipeline) must not leave its sensor
        # running after the benchmark: one did, for hours, publishing into a broker long gone.
        if process.poll() is None:
            process.kill()
            process.wait()
    ended = samples[-1][0]
    acked = acknowledged(log)
    stored = samples[-1][1]
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    cpu["moby-sensor"] = sensor_cpu
    # Steady state: the fill rate between 10% and 90% of the total.
    low = next(s for s in samples if s[1] >= 0.1 * stored)
    high = next(s for s in samples if s[1] >= 0.9 * stored)
    steady = (high[1] - low[1]) / (high[0] - low[0]) if high[0] > low[0] else stored / ended
    return {
        "offered_per_s": a.pipeline_rate, "readings": total, "acknowledged_by_broker": acked, "stored": stored,
        "lost": max(0, acked - stored), "zero_loss": stored == total and acked == total,
        "seconds": round(ended, 1), "end_to_end_per_s": round(stored / ended), "sustained_per_s": round(steady),
        "cpu_us_per_reading": {name: round(seconds * 1e6 / max(stored, 1), 1) for name, seconds in cpu.items()},
        "moby_sensor_peak_rss_mb": round(sensor_rss, 1),
    }


def pipeline(a):
    """The whole pipeline at full speed, `pipeline_runs` times (each after InfluxDB and moby-server
    go idle); every figure is the median of the runs with its spread, and every run must lose
    nothing."""
    runs = []
    for run in range(a.pipeline_runs):
        settled = settle(a)
        runs.append({"settled_s": settled, **pipeline_run(a, run)})
    processes = runs[0]["cpu_us_per_reading"].keys()
    return {
        "runs": runs,
        "readings": sum(r["readings"] for r in runs),
        "acknowledged_by_broker": sum(r["acknowledged_by_broker"] for r in runs),
        "stored": sum(r["stored"] for r in runs),
        "zero_loss": all(r["zero_loss"] for r in runs),
        "sustained_per_s": median_spread([r["sustained_per_s"] for r in runs]),
        "end_to_end_per_s": median_spread([r["end_to_end_per_s"] for r in runs]),
        "cpu_us_per_reading": {name: median_spread([r["cpu_us_per_reading"][name] for r in runs])
                               for name in processes},
    }


def median_spread(values):
    """The median of several runs and their range: the figure runs are compared by."""
    values = sorted(values)
    return {"median": values[len(values) // 2], "min": values[0], "max": values[-1]}


def probe_client(name):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{name}-{time.time_ns()}")
    mqtt_login.login(client, "probe")
    return client


def stored_latency(a, probes, pause=0.05):
    """Publish -> written in InfluxDB, one probe reading at a time (the others are moby-sensor's
    background); see `ForwardedWrites`. Probes are `pause` apart on average, spread at random
    between half and one and a half of it: a fixed pause is a multiple of moby-server's 10 ms
    read-gathering interval, so every probe would land just after a read and wait a whole interval,
    where a fleet's readings land anywhere in it."""
    spacing = random.Random(probes)
    device = f"probe-stored-{os.getpid()}"
    arrived, cond = {}, threading.Condition()

    def on_line(line, now):
        with cond:
            arrived[ForwardedWrites.timestamp(line)] = now
            cond.notify_all()

    client = probe_client("stored-probe")
    client.connect("127.0.0.1", a.mqtt_port)
    client.loop_start()
    latencies, missing = [], 0
    try:
        with ForwardedWrites(Influx(a.influx_port), f"device_id={device}", on_line) as forwarded:
            forwarded.wait_until_forwarding(client, lambda d, ns: seed_reading(d, ns, 0))
            for index in range(probes):
                ns = forwarded.now()
                client.publish(f"factory/sensor/data/{device}", seed_reading(device, ns, index), qos=1)
                with cond:
                    if cond.wait_for(lambda: ns in arrived, timeout=5):
                        latencies.append((arrived[ns] - ns) / 1e6)
                    else:
                        missing += 1
                time.sleep(pause * spacing.uniform(0.5, 1.5))
    finally:
        client.loop_stop()
    return alert_latency.summarize(latencies, probes, missing)


def latency(a):
    """Both latencies while moby-sensor keeps 5,000 readings/s flowing, and the server's cost at that rate."""
    rate = a.background_rate
    say(f"latency: background of {rate} readings/s from 500 devices…")
    process, log = sensor(a, "background", "--devices", 500, "--rate", rate)
    try:
        time.sleep(5)  # settle
        received = metric(a.http_port, "moby_mqtt_messages_received_total")
        cpu = cpu_seconds(a.server_pid)
        started = time.perf_counter()
        say(f"  publish -> stored: {a.stored_probes} probes…")
        stored = stored_latency(a, a.stored_probes)
        say(f"  publish -> WebSocket alert: {a.alert_episodes} episodes…")
        alerts = alert_latency.measure(a.mqtt_port, a.http_port, a.alert_episodes, 3, 0.05)
        elapsed = time.perf_counter() - started
        readings = metric(a.http_port, "moby_mqtt_messages_received_total") - received
        server_cpu = cpu_seconds(a.server_pid) - cpu
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {"background_offered_per_s": rate, "background_received_per_s": round(readings / elapsed),
            "server_cpu_us_per_reading": round(server_cpu * 1e6 / max(readings, 1), 1),
            "publish_to_stored_ms": stored, "publish_to_alert_ms": alerts}


def settle(a, quiet=0.05, longest=60):
    """Waits until InfluxDB and moby-server are idle (each under `quiet` of a core over a second,
    and no InfluxDB compaction running), at most `longest` seconds, so a stage does not measure
    the compactions the previous one left behind. Returns the seconds waited."""
    started = time.perf_counter()
    influx = Influx(a.influx_port)
    while time.perf_counter() - started < longest:
        before = [cpu_seconds(a.influxd_pid), cpu_seconds(a.server_pid)]
        time.sleep(1)
        used = [cpu_seconds(a.influxd_pid) - before[0], cpu_seconds(a.server_pid) - before[1]]
        if max(used) < quiet and influx.compacting() == 0:
            break
    return round(time.perf_counter() - started, 1)


def paced(a):
    """A fleet's everyday rate: `paced_publisher.py` sends 5,000 readings/s from 100 devices,
    each on its own evenly spread schedule. moby-server's CPU per reading, how it batches
    (writes per second, lines per write) and publish -> stored latency of every reading (50,000
    samples a run: a p99 of a few hundred probes is decided by their two or three worst), over
    `paced_runs` repetitions; the report gives the median and the spread."""
    runs = []
    for run in range(a.paced_runs):
        settled = settle(a)
        say(f"paced: run {run + 1}/{a.paced_runs}, {a.background_rate}/s evenly from 100 devices for {a.paced_seconds} s "
            f"(after {settled} s for InfluxDB and moby-server to go idle)…")
        runs.append(paced_run(a, run) | {"settled_s": settled})
        last = runs[-1]
        say(f"  {last['server_cpu_us_per_reading']} µs per reading, p99 {last['publish_to_stored_ms']['p99_ms']} ms, "
            f"host stalls {last['host']['stalls']}, InfluxDB cache snapshots {last['host']['influx_snapshot_ms']} ms, "
            f"compactions {last['host']['influx_compaction_ms']} ms")

    return {
        "rate": a.background_rate, "devices": 100, "seconds": a.paced_seconds, "runs": runs,
        "server_cpu_us_per_reading": median_spread([r["server_cpu_us_per_reading"] for r in runs]),
        "batches_per_s": median_spread([r["batches_per_s"] for r in runs]),
        "lines_per_batch": median_spread([r["lines_per_batch"] for r in runs]),
        "stored_p99_ms": median_spread([r["publish_to_stored_ms"]["p99_ms"] or 0 for r in runs]),
        # The runs in which neither the host stopped the machine for more than 20 ms nor InfluxDB
        # wrote its cache to disk: what moby-server's gathering and batching add to the latency.
        "calm_runs": sum(1 for r in runs if calm(r)),
        "stored_p99_ms_calm": median_spread([r["publish_to_stored_ms"]["p99_ms"] or 0 for r in runs if calm(r)]
                                            or [None]),
    }


def calm(run):
    """A paced run the host did not stall and InfluxDB did not spend on a cache snapshot or a TSM
    compaction (runs of older results have no compaction figure)."""
    host = run["host"]
    return host["stalls"] == 0 and host["influx_snapshot_ms"] == 0 and host.get("influx_compaction_ms", 0) == 0


def paced_run(a, run):
    """One paced run, and what the host and InfluxDB did meanwhile (`host`): stalls of a bystander
    process (`stall_meter.py`), CPU time the host took (steal), time tasks waited for a CPU or
    the disk, and the time InfluxDB spent on cache snapshots."""
    # Every reading's publish -> stored latency: the publisher stamps each with its send time.
    latencies = []
    influx = Influx(a.influx_port)
    with ForwardedWrites(influx, f"device_id=paced{run}-",
                         lambda line, now: latencies.append((ForwardedWrites.timestamp(line), now))) as forwarded:
        client = probe_client("paced-check")
        client.connect("127.0.0.1", a.mqtt_port)
        client.loop_start()
        try:
            forwarded.wait_until_forwarding(client, lambda d, ns: seed_reading(d, ns, 0))
        finally:
            client.loop_stop()
            client.disconnect()
        # The server's CPU is read between the two `/metrics` requests, which it does not count.
        before = metrics(a.http_port)
        cpu = cpu_seconds(a.server_pid)
        steal, pressure, snapshots = steal_seconds(), pressure_seconds(), influx.snapshot_ms()
        compactions = influx.compaction_ms()
        meter = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "stall_meter.py")],
                                 stdout=subprocess.PIPE, text=True)
        try:
            started = time.perf_counter()
            publisher = subprocess.Popen(
                [sys.executable, os.path.join(os.path.dirname(__file__), "paced_publisher.py"), "--port",
                 str(a.mqtt_port), "--devices", "100", "--rate", str(a.background_rate), "--seconds",
                 str(a.paced_seconds), "--prefix", f"paced{run}-", "--clock-anchor", forwarded.anchor_argument()],
                stdout=subprocess.PIPE, text=True)
            output, _ = publisher.communicate(timeout=a.paced_seconds + 60)
            sent = json.loads(output.strip().splitlines()[-1])
            time.sleep(1)  # the last batches
            elapsed = time.perf_counter() - started
            server_cpu = cpu_seconds(a.server_pid) - cpu
            meter.terminate()
            host = json.loads(meter.communicate(timeout=10)[0])
        finally:
            if meter.poll() is None:
                meter.kill()
                meter.wait()
        host["steal_s"] = round(steal_seconds() - steal, 2)
        host["influx_snapshot_ms"] = influx.snapshot_ms() - snapshots
        host["influx_compaction_ms"] = influx.compaction_ms() - compactions
        host.update({f"{name}_pressure_s": round(value - pressure[name], 2)
                     for name, value in pressure_seconds().items()})
    # UDP may drop a forwarded write: the sample is what arrived (`seen` of `attempts`).
    stored = alert_latency.summarize([(now - ns) / 1e6 for ns, now in latencies], sent["published"],
                                     sent["published"] - len(latencies))
    # Where the tail is: per second of the run, the readings stored more than 20 ms after publish.
    first = min((ns for ns, _ in latencies), default=0)
    over_20ms = [0] * (a.paced_seconds + 1)
    for ns, now in latencies:
        if now - ns > 20_000_000:
            over_20ms[min(a.paced_seconds, (ns - first) // 1_000_000_000)] += 1
    stored["over_20ms_by_second"] = over_20ms
    after = metrics(a.http_port)

    def grown(name):
        return after.get(name, 0.0) - before.get(name, 0.0)

    readings = grown("moby_mqtt_messages_received_total")
    written = grown("moby_influx_batches_total")
    batch_lines = grown("moby_influx_batch_lines_sum")
    # InfluxDB's own share of the tail: writes that took longer than 10 ms to be accepted.
    slow_writes = grown("moby_influx_write_seconds_count") - grown('moby_influx_write_seconds_bucket{le="0.01"}')
    return {
        "publisher": sent, "readings": int(readings),
        "server_cpu_us_per_reading": round(server_cpu * 1e6 / max(readings, 1), 1),
        "batches_per_s": round(written / elapsed, 1), "lines_per_batch": round(batch_lines / max(written, 1), 1),
        "publish_to_stored_ms": stored, "writes_over_10ms": int(slow_writes), "host": host,
    }


# MARK: Report


def spread(values, unit=""):
    return f"{values['median']}{unit} [{values['min']}-{values['max']}]"


def report(results, out):
    b, i, p, l = results["broker_ceiling"], results["influx_ceiling"], results["pipeline"], results["latency"]
    pc = results["paced"]
    sustained = p["sustained_per_s"]["median"]
    ratio = sustained / b["readings_per_s"]
    cpu = p["cpu_us_per_reading"]
    server_cpu, sensor_cpu = cpu["moby-server"], cpu["moby-sensor"]
    rss = results["moby_server_peak_rss_mb"]
    st, al = l["publish_to_stored_ms"], l["publish_to_alert_ms"]
    rows = [
        ("Broker ceiling (QoS 1 pub -> sub)", f"{b['readings_per_s']:,} /s", "", None),
        ("InfluxDB ceiling (5,000-line batches)", f"{i['points_per_s']:,} points/s", "", None),
        (f"Full speed (moby-sensor -> InfluxDB, {len(p['runs'])} runs: median [min-max])", "", "", None),
        ("  pipeline sustained", spread(p["sustained_per_s"], " /s"), "", None),
        ("  end to end, first publish -> last stored", spread(p["end_to_end_per_s"], " /s"), "", None),
        ("  stored / acknowledged / offered, all runs",
         f"{p['stored']:,} / {p['acknowledged_by_broker']:,} / {p['readings']:,}", "no loss", p["zero_loss"]),
        ("  ratio to the broker ceiling", f"{ratio:.0%}", ">= 80%", ratio >= 0.8),
        ("  moby-server CPU per reading", spread(server_cpu, " µs"), "<= 5 µs", server_cpu["median"] <= 5),
        ("  moby-sensor CPU per reading", spread(sensor_cpu, " µs"), "<= 10 µs", sensor_cpu["median"] <= 10),
        ("moby-server CPU per reading, 5,000/s from moby-sensor", f"{l['server_cpu_us_per_reading']} µs", "", None),
        (f"Paced 5,000/s evenly (100 devices, {len(pc['runs'])} runs: median [min-max])", "", "", None),
        ("  moby-server CPU per reading", spread(pc["server_cpu_us_per_reading"], " µs"), "<= 10 µs",
         pc["server_cpu_us_per_reading"]["median"] <= 10),
        ("  InfluxDB writes per second", spread(pc["batches_per_s"]), "", None),
        ("  lines per write", spread(pc["lines_per_batch"]), "", None),
        ("  publish -> stored p99, every reading of every run", spread(pc["stored_p99_ms"], " ms"), "", None),
        (f"  the same, runs without host stalls or InfluxDB snapshots and compactions ({pc['calm_runs']} of "
         f"{len(pc['runs'])})",
         spread(pc["stored_p99_ms_calm"], " ms") if pc["calm_runs"] else "none", "<= 20 ms",
         pc["calm_runs"] > 0 and pc["stored_p99_ms_calm"]["median"] <= 20),
        ("  per run: host stalls over 20 ms (their total); InfluxDB cache snapshots + compactions",
         ", ".join(f"{r['host']['stalls']} ({r['host']['total_ms']:.0f} ms); {r['host']['influx_snapshot_ms']} + "
                   f"{r['host'].get('influx_compaction_ms', 0)} ms" for r in pc["runs"]), "", None),
        ("moby-server peak RSS", f"{rss:.0f} MB", "<= 150 MB", rss <= 150),
        ("Publish -> stored p50 / p99 (5,000/s)", f"{st['p50_ms']} / {st['p99_ms']} ms", "", None),
        ("Publish -> WebSocket alert p50 / p99 (5,000/s)", f"{al['p50_ms']} / {al['p99_ms']} ms", "p99 <= 50 ms",
         al["p99_ms"] is not None and al["p99_ms"] <= 50),
    ]
    width = max(len(r[0]) for r in rows) + 2
    vwidth = max(len(r[1]) for r in rows) + 2
    print()
    print(f"{'Measure':<{width}}{'Result':<{vwidth}}{'Target':<14}Met")
    print("-" * (width + vwidth + 20))
    for name, value, target, met in rows:
        print(f"{name:<{width}}{value:<{vwidth}}{target:<14}{'' if met is None else ('yes' if met else 'NO')}")
    medians = {name: value["median"] for name, value in cpu.items()}
    total = sum(medians.values())
    print()
    print("CPU per reading at full speed, by process (µs, medians): "
          + ", ".join(f"{name} {value}" for name, value in sorted(medians.items(), key=lambda kv: -kv[1]))
          + f"; total {total:.0f} µs on {os.cpu_count()} cores = at most {os.cpu_count() * 1e6 / total:,.0f} readings/s")
    print(f"\nJSON: {out}")


def main():
    parser = argparse.ArgumentParser()
    for name in ("mqtt-port", "influx-port", "http-port", "server-pid", "mosquitto-pid", "influxd-pid"):
        parser.add_argument(f"--{name}", type=int, required=True)
    parser.add_argument("--bin", required=True, help="folder of the release moby-sensor")
    parser.add_argument("--dir", required=True, help="scratch folder")
    parser.add_argument("--out", required=True, help="JSON result file")
    parser.add_argument("--broker-messages", type=int, default=200_000)
    parser.add_argument("--influx-batches", type=int, default=40)
    parser.add_argument("--pipeline-readings", type=int, default=200_000, help="per full-speed run")
    parser.add_argument("--pipeline-runs", type=int, default=3)
    parser.add_argument("--pipeline-rate", type=int, default=40_000)
    parser.add_argument("--background-rate", type=int, default=5_000)
    parser.add_argument("--stored-probes", type=int, default=300)
    parser.add_argument("--alert-episodes", type=int, default=200)
    parser.add_argument("--paced-runs", type=int, default=5)
    parser.add_argument("--paced-seconds", type=int, default=10)
    parser.add_argument("--only", choices=["paced", "pipeline"], help="run one stage (for tuning)")
    a = parser.parse_args()
    results = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()},
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
    }
    if a.only:
        results[a.only] = {"paced": paced, "pipeline": pipeline}[a.only](a)
        print(json.dumps(results, indent=1))
        return
    results["broker_ceiling"] = broker_ceiling(a)
    results["influx_ceiling"] = influx_ceiling(a)
    results["pipeline"] = pipeline(a)
    results["latency"] = latency(a)
    results["paced"] = paced(a)
    results["moby_server_peak_rss_mb"] = round(peak_rss_mb(a.server_pid), 1)
    results["targets"] = {"pipeline_ratio_min": 0.8, "server_cpu_us_max": 5, "sensor_cpu_us_max": 10,
                          "paced_server_cpu_us_max": 10, "paced_stored_p99_ms_max": 20, "server_rss_mb_max": 150,
                          "alert_p99_ms_max": 50}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=2)
    report(results, a.out)
    if not results["pipeline"]["zero_loss"]:
        raise SystemExit("readings were lost in the pipeline run")


if __name__ == "__main__":
    main()
