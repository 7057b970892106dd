"""What InfluxDB stored, as it stores it: a UDP subscription on the `moby` database forwards every
write InfluxDB accepts, and each forwarded line whose text contains `marker` is handed to
`on_line(line, arrived_ns)` with the wall-clock time it arrived. Readings that carry their publish
time as timestamp then give publish -> stored latency, one sample per reading.

Times are a wall clock that cannot step: `anchor` (wall and monotonic ns at one instant, handed
to publishers in other processes) plus the monotonic time since. A VM's wall clock can jump by
seconds when the host corrects it, which once made a run's median latency 13 s."""
import os
import socket
import threading
import time


class ForwardedWrites:
    """Creates the subscription on enter and drops it on exit; `wait_until_forwarding` publishes
    until InfluxDB forwards (it starts shortly after the subscription is created)."""

    def __init__(self, influx, marker, on_line):
        self.influx, self.marker, self.on_line = influx, marker.encode(), on_line
        self.stop = threading.Event()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.rp = None
        self.anchor = (time.time_ns(), time.monotonic_ns())
        self.check_device = f"forwarding-check-{os.getpid()}"
        self.forwarding = threading.Event()

    def __enter__(self):
        self.rp = next(row[0] for row in
                       self.influx.query("SHOW RETENTION POLICIES ON moby")["results"][0]["series"][0]["values"]
                       if row[-1])
        port = self.listener.getsockname()[1]
        self.influx.query(
            f'CREATE SUBSCRIPTION "bench" ON "moby"."{self.rp}" DESTINATIONS ALL \'udp://127.0.0.1:{port}\'',
            method="POST")
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join(timeout=2)
        self.influx.query(f'DROP SUBSCRIPTION "bench" ON "moby"."{self.rp}"', method="POST")
        self.listener.close()

    def _listen(self):
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                data = self.listener.recv(1 << 16)
            except socket.timeout:
                continue
            now = self.now()
            if not self.forwarding.is_set() and f"device_id={self.check_device}".encode() in data:
                self.forwarding.set()
            if self.marker not in data:
                continue
            for line in data.split(b"\n"):
                if self.marker in line:
                    self.on_line(line, now)

    def wait_until_forwarding(self, client, reading, timeout=20):
        """Publishes a reading of its own each second (`reading(device, ns)` makes it) until InfluxDB
        forwards one: the subscription starts forwarding shortly after it is created."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            client.publish(f"factory/sensor/data/{self.check_device}", reading(self.check_device, self.now()), qos=1)
            if self.forwarding.wait(timeout=1):
                return
        raise SystemExit("InfluxDB did not forward writes to the UDP subscription")

    def now(self):
        """Nanoseconds on the anchored clock."""
        return self.anchor[0] + time.monotonic_ns() - self.anchor[1]

    def anchor_argument(self):
        """The anchor as `paced_publisher.py --clock-anchor` takes it."""
        return f"{self.anchor[0]},{self.anchor[1]}"

    @staticmethod
    def timestamp(line):
        """The line's timestamp (ns), its last field."""
        return int(line.rsplit(b" ", 1)[1])
