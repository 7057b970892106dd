"""Checks a simulated run's alerts against its injected anomalies: one alert per detectable
episode (spike, drift, noise), none for healthy devices, and how many events each produced."""
import argparse
import json
import sqlite3
import urllib.request

import api_token


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("injections", nargs="+")
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.http_port}/api/v1/alerts?limit=1000"
    alerts = json.load(urllib.request.urlopen(urllib.request.Request(url, headers=api_token.headers())))["alerts"]
    by_device = {}
    for alert in alerts:
        by_device.setdefault(alert["device_id"], []).append(alert)
    db = sqlite3.connect(args.database)
    events = dict(db.execute("SELECT type, count(*) FROM alert_event GROUP BY type").fetchall())
    per_alert = dict(db.execute("SELECT alert_id, count(*) FROM alert_event GROUP BY alert_id").fetchall())

    detectable = {"spike", "drift", "noise"}
    rows, ok = [], True
    injected = set()
    for injection in args.injections:
        kind, rest = injection.split(":", 1)
        device = rest.split("@")[0]
        injected.add(device)
        found = by_device.get(device, [])
        expected = 1 if kind in detectable else 0
        good = len(found) == expected and all(a["cleared_at"] for a in found)
        ok &= good
        first = found[0] if found else {}
        rows.append((injection, expected, len(found), first.get("severity", "-"), first.get("reading_count", "-"),
                     round(first.get("peak_score", 0), 1), per_alert.get(first.get("id"), 0),
                     "yes" if first.get("cleared_at") else "-", "ok" if good else "MISMATCH"))
    stray = [a for a in alerts if a["device_id"] not in injected]
    ok &= not stray
    print(f"{'injection':28} {'want':>4} {'got':>3} {'severity':>8} {'readings':>8} {'peak':>5} {'events':>6} "
          f"{'cleared':>7}")
    for row in rows:
        print(f"{row[0]:28} {row[1]:>4} {row[2]:>3} {row[3]:>8} {row[4]:>8} {row[5]:>5} {row[6]:>6} {row[7]:>7}  "
              f"{row[8]}")
    print(f"alerts on devices without an injection: {len(stray)}")
    print(f"events by type: {json.dumps(events, sort_keys=True)}")
    print(json.dumps({"episodes_detectable": sum(1 for r in rows if r[1] == 1), "alerts": len(alerts),
                      "stray_alerts": len(stray), "events": sum(events.values()), "ok": ok}))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
