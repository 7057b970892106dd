#!/usr/bin/env python3
"""A bystander that measures the machine, not MOBY: sleeps 2 ms at a time and records each time it
woke more than 20 ms late. On a shared VM the host can stop every virtual CPU at once (its CPU quota
comes in 100 ms periods); readings published meanwhile wait as well, and nothing in the pipeline
can help it. Runs until SIGTERM, then prints JSON: how many stalls, the longest, their total."""
import json
import signal
import time

LATE_MS = 20
PERIOD = 0.002


def main():
    stopped = False

    def stop(*_):
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, stop)
    stalls = []
    last = time.monotonic()
    while not stopped:
        time.sleep(PERIOD)
        now = time.monotonic()
        late = (now - last - PERIOD) * 1000
        if late > LATE_MS:
            stalls.append(late)
        last = now
    print(json.dumps({"stalls": len(stalls), "longest_ms": round(max(stalls, default=0), 1),
                      "total_ms": round(sum(stalls), 1)}), flush=True)


if __name__ == "__main__":
    main()
