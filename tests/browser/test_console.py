"""Browser tests of the operator console against the real pipeline (issue 12, "Tests").

Each test uses its own device ids, so they do not depend on each other's order; they share one
stack (Mosquitto, influxd, moby-server) for speed. What a person sees is asserted through the
console's data-testid hooks (web/README.md) and its visible text. Pages are logged in as the
`operator` account (conftest.USERS) unless a test names another one, or nobody (the login page)."""

from __future__ import annotations

import json
import re
import signal
import time

import pytest
from playwright.sync_api import Page, expect

from moby_harness import Publisher, hot_reading, normal_reading, parse_time, wait_for

from conftest import DEFAULT_USER, UNAUTHORIZED_401, USERS

LIVE_TIMEOUT = 20_000  # ms: the alert stream connects (backoff is capped at 15 s)


@pytest.fixture(scope="session")
def publisher(stack):
    publisher = Publisher(stack, client_id="browser-tests-publisher")
    yield publisher
    publisher.close()


def wait_live(page: Page, timeout: int = LIVE_TIMEOUT) -> None:
    expect(page.get_by_test_id("connection-state"), "the alert stream should be live").to_have_attribute(
        "data-state", "live", timeout=timeout)


def raise_alert(stack, publisher, device: str, readings: int = 3) -> dict:
    """Publishes `readings` critical readings (the server raises after 3 in a row) and returns
    the alert the server raised for `device`."""
    for _ in range(readings):
        publisher.publish(hot_reading(device))
    alerts = wait_for(f"an alert for {device}", lambda: stack.alerts(device=device), 15)
    return alerts[0]


def probe(page: Page) -> dict:
    return page.evaluate("() => JSON.parse(JSON.stringify(window.__moby))")


def log_in_on_page(page: Page, user: str) -> None:
    """Logs in through the login page (keyboard: type, Enter) as one of conftest.USERS."""
    expect(page.get_by_test_id("login-form")).to_be_visible()
    page.get_by_test_id("login-name").fill(user)
    page.get_by_test_id("login-password").fill(USERS[user][1])
    page.get_by_test_id("login-password").press("Enter")
    expect(page.get_by_test_id("session-user"), f"logged in as {user}").to_have_attribute("data-name", user)


# 1 -------------------------------------------------------------------------------------------
def test_readings_make_device_appear(console, stack, publisher):
    page = console.open("#/")
    wait_live(page)
    device = "press_line1_07"
    expect(page.locator(f'[data-testid="device-row"][data-device-id="{device}"]')).to_have_count(0)

    publisher.publish(normal_reading(device, temperature=31.5, humidity=52, vibration=3.25, sound=71))
    publisher.publish(normal_reading(device, temperature=31.5, humidity=52, vibration=3.25, sound=71))

    # The fleet refreshes its values every 5 s without a reload.
    row = page.locator(f'[data-testid="device-row"][data-device-id="{device}"]')
    expect(row, f"{device} should appear in the fleet without reloading").to_have_count(1, timeout=15_000)
    expect(row.get_by_test_id("device-status")).to_have_attribute("data-status", "online")
    expect(row.get_by_test_id("device-status")).to_have_text("Online")
    expect(row.locator('td[data-metric="temperature"]')).to_have_text("31.5 °C")
    expect(row.locator('td[data-metric="humidity"]')).to_have_text("52 %")
    expect(row.locator('td[data-metric="vibration"]')).to_have_text("3.25 mm/s")
    expect(row.locator('td[data-metric="sound"]')).to_have_text("71 dB")
    expect(row).to_have_attribute("data-condition", "normal")
    console.shot(page, "fleet")

    # The name filter narrows the list to it.
    page.get_by_test_id("fleet-filter-text").fill("line1_07")
    expect(page.get_by_test_id("device-row")).to_have_count(1)
    expect(page.get_by_test_id("fleet-count")).to_contain_text("1 of")
    console.shot(page, "fleet-filtered")

    # Its device page shows the same values.
    row.locator("th a").click()
    expect(page).to_have_url(re.compile(rf"#/devices/{device}$"))
    summary = page.get_by_test_id("device-summary")
    expect(summary.locator('[data-metric="temperature"]')).to_contain_text("31.5 °C")
    expect(summary.locator('[data-metric="sound"]')).to_contain_text("71 dB")
    expect(page.get_by_test_id("chart-climate")).to_be_visible()
    console.shot(page, "device")


# 2 -------------------------------------------------------------------------------------------
def test_anomaly_shows_toast_and_alert(console, stack, record_timing):
    page = console.open("#/")
    wait_live(page)
    device = "spike_001"
    stack.sensor("spike", "--devices", "1", "--prefix", "spike_", "--rate", "10", "--seed", "3",
                 "--anomaly", f"spike:{device}@2s+20s", "--quiet")

    alert = wait_for(f"moby-sensor's spike on {device} to raise an alert",
                     lambda: stack.alerts(device=device), 30)[0]
    toast = page.locator(f'[data-testid="toast"][data-alert-id="{alert["id"]}"]')
    expect(toast, "a toast for the raised alert").to_be_visible(timeout=10_000)
    expect(toast).to_have_attribute("data-severity", alert["severity"])
    expect(toast).to_have_attribute("data-kind", "raised")
    expect(toast).to_contain_text(device)
    expect(toast).to_contain_text("New alert")
    expect(toast).to_contain_text(alert["rule"])
    console.shot(page, "toast")

    # Timing: raised_at (server clock) -> toast in the DOM, and /ws arrival -> toast (same machine).
    seen = probe(page)
    toast_at = seen["toasts"][str(alert["id"])]
    raised = [e for e in seen["events"] if e["type"] == "alert.raised" and e["alertId"] == alert["id"]]
    assert len(raised) == 1, f"alert.raised for {alert['id']} should arrive once on /ws: {raised}"
    raised_to_toast = toast_at - parse_time(alert["raised_at"]) * 1000
    event_to_toast = toast_at - raised[0]["at"]
    record_timing("test 2: alert raised_at -> toast (ms)", round(raised_to_toast, 1))
    record_timing("test 2: /ws event -> toast (ms)", round(event_to_toast, 1))
    assert raised_to_toast < 5000, f"toast {raised_to_toast:.0f} ms after the alert was raised (target 2 s)"

    # The toast opens the alert; the panel lists it.
    toast.locator("a.toast-body").click()
    expect(page).to_have_url(re.compile(rf"#/alerts/{alert['id']}$"))
    detail = page.get_by_test_id("alert-detail")
    expect(detail).to_have_attribute("data-alert-id", str(alert["id"]))
    expect(detail).to_have_attribute("data-status", "pending")
    expect(detail.get_by_test_id("alert-summary")).to_contain_text(device)
    row = page.locator(f'[data-testid="alert-row"][data-alert-id="{alert["id"]}"]')
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "pending")
    expect(row).to_have_attribute("data-severity", alert["severity"])
    expect(page.get_by_test_id(f"open-{alert['severity']}")).not_to_have_attribute("data-count", "0")
    console.shot(page, "alert-panel")


# 3 -------------------------------------------------------------------------------------------
def test_acknowledge_then_resolve_with_notes(console, stack, publisher):
    alert = raise_alert(stack, publisher, "ack_dev_01")
    # The server records the logged-in user as the actor: this browser is 김민수's.
    page = console.open(f"#/alerts/{alert['id']}", user="김민수")
    wait_live(page)
    expect(page.get_by_test_id("session-user")).to_have_attribute("data-name", "김민수")
    detail = page.get_by_test_id("alert-detail")
    expect(detail).to_have_attribute("data-status", "pending")
    console.shot(page, "pending")

    detail.get_by_test_id("note-field").fill("Checked the cooling fan")
    detail.get_by_test_id("ack-button").click()
    expect(detail.get_by_test_id("action-result")).to_have_text("Acknowledge: 1 alert.")
    expect(detail).to_have_attribute("data-status", "acknowledged")
    expect(detail.locator('[data-testid="alert-status"]').first).to_have_text("Acknowledged")
    expect(detail.get_by_test_id("ack-button")).to_be_disabled()
    ack_row = detail.locator('[data-testid="alert-history"] tr[data-action="acknowledged"]')
    expect(ack_row).to_contain_text("김민수")
    expect(ack_row).to_contain_text("Checked the cooling fan")
    expect(page.locator(f'[data-testid="alert-row"][data-alert-id="{alert["id"]}"]')).to_have_attribute(
        "data-status", "acknowledged")
    console.shot(page, "acknowledged")

    detail.get_by_test_id("note-field").fill("Replaced the fan belt; temperature back to 26 °C")
    detail.get_by_test_id("resolve-button").click()
    expect(detail.get_by_test_id("action-result")).to_have_text("Resolve: 1 alert.")
    expect(detail).to_have_attribute("data-status", "resolved")
    expect(detail.get_by_test_id("resolve-button")).to_be_disabled()
    resolved_row = detail.locator('[data-testid="alert-history"] tr[data-action="resolved"]')
    expect(resolved_row).to_contain_text("Replaced the fan belt; temperature back to 26 °C")
    # The default list shows open alerts only: the resolved one leaves it.
    expect(page.locator(f'[data-testid="alert-row"][data-alert-id="{alert["id"]}"]')).to_have_count(0)
    console.shot(page, "resolved")

    body = stack.get(f"/api/v1/alerts/{alert['id']}")
    assert body["alert"]["status"] == "resolved"
    steps = {h["action"]: h for h in body["history"]}
    assert [h["action"] for h in body["history"]][-2:] == ["acknowledged", "resolved"], body["history"]
    assert steps["acknowledged"]["actor"] == "김민수", steps["acknowledged"]
    assert steps["acknowledged"].get("note") == "Checked the cooling fan", steps["acknowledged"]
    assert steps["resolved"]["actor"] == "김민수", steps["resolved"]
    assert steps["resolved"].get("note") == "Replaced the fan belt; temperature back to 26 °C", steps["resolved"]


# 4 -------------------------------------------------------------------------------------------
CONFLICT_409 = r"Failed to load resource: the server responded with a status of 409 \(Conflict\)"


def test_resolve_conflict_from_two_tabs_is_a_sentence(console, stack, publisher):
    alert = raise_alert(stack, publisher, "conflict_dev_01")
    tabs = {}
    for label, name in (("tab-a", "operator-a"), ("tab-b", "operator-b")):
        # Two people, each logged in in a browser of their own (a session per browser).
        page = console.open(f"#/alerts/{alert['id']}", label=label, user=name)
        expect(page.get_by_test_id("session-user")).to_have_attribute("data-name", name)
        detail = page.get_by_test_id("alert-detail")
        expect(detail).to_have_attribute("data-status", "pending")
        detail.get_by_test_id("note-field").fill(f"resolved by {name}")
        tabs[label] = (page, detail, name)

    # Two operators press Resolve on the same pending alert at (nearly) the same moment.
    for page, detail, _ in tabs.values():
        detail.get_by_test_id("resolve-button").click(no_wait_after=True)
    for page, detail, _ in tabs.values():
        expect(detail.get_by_test_id("action-result")).to_be_visible()

    results = {label: (detail.get_by_test_id("action-result").inner_text().strip(),
                       detail.get_by_test_id("action-result").get_attribute("class"))
               for label, (page, detail, _) in tabs.items()}
    winners = [label for label, (text, cls) in results.items() if "notice-ok" in cls]
    losers = [label for label, (text, cls) in results.items() if "notice-error" in cls]
    assert len(winners) == 1 and len(losers) == 1, f"one resolve should succeed and one get 409: {results}"
    winner, loser = winners[0], losers[0]
    winner_name = tabs[winner][2]
    assert results[winner][0] == "Resolve: 1 alert.", results
    # The 409 in words: who resolved it first, when, and their note; said as an alert.
    sentence = results[loser][0]
    assert re.fullmatch(
        rf"{winner_name} already resolved this alert (just now|\d+ sec\. ago)\. Their note: “resolved by {winner_name}”",
        sentence), f"the 409 should be a sentence naming {winner_name}: {sentence!r}"
    loser_page, loser_detail, _ = tabs[loser]
    expect(loser_detail.get_by_test_id("action-result")).to_have_attribute("role", "alert")
    expect(loser_detail).to_have_attribute("data-status", "resolved")
    console.shot(loser_page, "409-sentence")
    console.shot(tabs[winner][0], "resolved-first")
    # The browser logs the 409 response itself: expected on the losing tab only, once.
    console.allow(CONFLICT_409, page=loser)
    assert [e.text for e in console.errors if re.fullmatch(CONFLICT_409, e.text)] == [
        "Failed to load resource: the server responded with a status of 409 (Conflict)"]

    history = stack.get(f"/api/v1/alerts/{alert['id']}")["history"]
    resolved = [h for h in history if h["action"] == "resolved"]
    assert len(resolved) == 1 and resolved[0]["actor"] == winner_name, history


# 5 -------------------------------------------------------------------------------------------
def ws_reference(console, since: int, expect_events: int, timeout: float = 15) -> list[dict]:
    """Every event the server holds after `since`, read by a plain WebSocket in a page of its own."""
    page = console.page("reference")  # the operator's browser, but no page of the console:
    # a JSON file of the server's origin, so the SameSite=Strict session cookie goes with the
    # upgrade (from about:blank it would not, and the server would refuse the socket).
    if not page.url.startswith(console.stack.base_url):
        page.goto(f"{console.stack.base_url}/manifest.json")
        # Chromium asks for /favicon.ico for a JSON page; the server has none (404), on this tab only.
        console.allow(r"Failed to load resource: the server responded with a status of 404 \(Not Found\)", page="reference")
    return page.evaluate(
        """([url, want, timeout]) => new Promise((resolve, reject) => {
            const events = [];
            const socket = new WebSocket(url);
            const done = () => { socket.close(); resolve(events); };
            const timer = setTimeout(() => { socket.close(); reject(new Error(
                `reference /ws: ${events.length} of ${want} events after ${timeout} ms`)); }, timeout);
            socket.onmessage = (m) => {
                const message = JSON.parse(m.data);
                if (message.type === 'snapshot') { clearTimeout(timer); socket.close();
                    reject(new Error('reference /ws answered with a snapshot: ' + (message.reason || ''))); }
                if (message.type && message.type.startsWith('alert.')) {
                    events.push({type: message.type, seq: message.seq, alertId: message.alert.id, at: message.at});
                    if (events.length >= want) { clearTimeout(timer); setTimeout(done, 300); }
                }
            };
        })""",
        [f"ws://127.0.0.1:{console.stack.http_port}/ws?since={since}", expect_events, int(timeout * 1000)])


def live_again_or_log_in(console, page: Page, user: str = DEFAULT_USER) -> None:
    """After a server restart the stream goes live again with the same session cookie. A server
    that keeps sessions in memory only has forgotten it: the refused sockets make the console
    check its session (401) and show the login page; logging in again there resumes the stream
    after the last event it had, like any reconnect."""
    either = page.locator('[data-testid="connection-state"][data-state="live"], [data-testid="login-form"]')
    expect(either.first, "live again, or the login page").to_be_visible(timeout=LIVE_TIMEOUT)
    if page.get_by_test_id("login-form").count():
        console.allow(UNAUTHORIZED_401)
        log_in_on_page(page, user)


def test_server_restart_reconnects_and_misses_nothing(console, stack, publisher, record_timing):
    before = raise_alert(stack, publisher, "restart_dev_00")
    page = console.open("#/alerts")
    wait_live(page)
    expect(page.locator(f'[data-testid="alert-row"][data-alert-id="{before["id"]}"]')).to_have_count(1)
    wait_for("the page to have the stream's current sequence",
             lambda: probe(page)["events"], 10)
    last_seq = max(e["seq"] for e in probe(page)["events"])
    sockets_before = len(probe(page)["sockets"])

    stopped_at = time.time()
    assert stack.stop_server(signal.SIGTERM) == 0, stack.server.log_tail()
    state = page.get_by_test_id("connection-state")
    expect(state, "the page should say it is reconnecting").to_have_attribute(
        "data-state", re.compile("reconnecting|offline"), timeout=10_000)
    expect(state).to_contain_text(re.compile("Reconnecting|Offline"))
    console.shot(page, "reconnecting")

    # Meanwhile: four machines overheat (the broker keeps their readings for the server's
    # persistent session) and, once the server is back, the older alert is acknowledged.
    devices = [f"restart_dev_{i:02d}" for i in range(1, 5)]
    for device in devices:
        for _ in range(3):
            publisher.publish(hot_reading(device))
    stack.start_server()
    # (With the admin token: the server records the token as the actor; a body's actor is ignored.)
    status, _ = stack.http(f"/api/v1/alerts/{before['id']}/acknowledge", "POST",
                           {"note": "acknowledged while the console was away"})
    assert status == 200
    new_alerts = wait_for("the four alerts raised from the queued readings",
                          lambda: len(found := [a for d in devices for a in stack.alerts(device=d)]) == 4 and found, 20)
    new_ids = sorted(a["id"] for a in new_alerts)

    live_again_or_log_in(console, page)
    wait_live(page)
    record_timing("test 5: server stopped -> page live again (s)", round(time.time() - stopped_at, 1))
    # Every event after the page's last one, read independently from the server.
    reference = ws_reference(console, last_seq, expect_events=5)
    reference_seqs = [e["seq"] for e in reference]
    assert {e["alertId"] for e in reference if e["type"] == "alert.raised"} == set(new_ids), reference

    # The page got each of them exactly once, over a socket that resumed after its last sequence.
    wait_for("the page to receive every event the server raised meanwhile",
             lambda: set(reference_seqs) <= {e["seq"] for e in probe(page)["events"] if e["type"] != "snapshot"}, 15)
    seen = probe(page)
    resumed = seen["sockets"][sockets_before:]
    # It resumed after the last event the old socket delivered (an escalation of the older alert
    # may have arrived after last_seq was read, just before the server stopped).
    old_urls = {s["url"] for s in seen["sockets"][:sockets_before]}
    had = max(e["seq"] for e in seen["events"] if e["url"] in old_urls)
    assert resumed and had >= last_seq, resumed
    assert resumed[0]["url"].endswith(f"/ws?since={had}"), (resumed, had)
    after = [e for e in seen["events"] if e["type"] != "snapshot" and e["seq"] > last_seq]
    assert not [e for e in seen["events"] if e["type"] == "snapshot" and e["url"] != seen["sockets"][0]["url"]], \
        "the resume should replay events, not fall back to a snapshot"
    seqs = [e["seq"] for e in after]
    assert len(seqs) == len(set(seqs)), f"an event arrived twice: {seqs}"
    opened = [s["openedAt"] for s in resumed if s["openedAt"]]
    record_timing("test 5: events raised before the page reconnected",
                  sum(1 for e in reference if parse_time(e["at"]) * 1000 < min(opened)))

    # What a person sees: one toast per new alert (3 cards + "1 more"), each alert once in the
    # panel, the acknowledged one marked so, and the header counts equal to the server's.
    toasts = page.get_by_test_id("toast")
    expect(toasts).to_have_count(3)
    toast_ids = sorted(int(t.get_attribute("data-alert-id")) for t in toasts.all())
    assert set(toast_ids) <= set(new_ids), (toast_ids, new_ids)
    # 4 new alerts: 3 cards + "1 more". The older alert may have escalated to critical after the
    # page opened, which toasts it too (criticals stay until dismissed): then "2 more".
    more = page.get_by_test_id("toast-more")
    expect(more).to_have_attribute("data-count", re.compile("^[12]$"))
    count = int(more.get_attribute("data-count"))
    expect(more).to_contain_text(re.compile(r"^1 more alert(?!s)" if count == 1 else r"^2 more alerts"))
    for alert_id in new_ids:
        expect(page.locator(f'[data-testid="alert-row"][data-alert-id="{alert_id}"]')).to_have_count(1)
    expect(page.locator(f'[data-testid="alert-row"][data-alert-id="{before["id"]}"]')).to_have_attribute(
        "data-status", "acknowledged")
    open_critical = len(stack.alerts(status="pending,acknowledged", severity="critical", limit="1000"))
    expect(page.get_by_test_id("open-critical")).to_have_attribute("data-count", str(open_critical))
    console.shot(page, "after-restart")
    # Failed connection attempts and loads while the server was down are the only errors
    # expected: the stream's reconnects (resuming after the last sequence the page had, which a
    # heartbeat-free wait may have moved on) and the alert list's refreshes.
    console.allow(rf"WebSocket connection to 'ws://127\.0\.0\.1:{stack.http_port}/ws\?since=\d+' failed: .*")
    console.allow(r"Failed to load resource: net::ERR_CONNECTION_REFUSED")


# 6 -------------------------------------------------------------------------------------------
GROUPS = {  # the device view's charts and the metrics each draws; humidity on the right axis
    "climate": (["temperature", "humidity"], ["humidity"]),
    "vibration": (["vibration"], []),
    "sound": (["sound"], []),
    "accel": (["accel_x", "accel_y", "accel_z"], []),
    "gyro": (["gyro_x", "gyro_y", "gyro_z"], []),
    "score": (["anomaly_score"], []),
}


def expected_limits(catalog: dict, metrics: list[str], right: list[str]) -> set[tuple[str, str, float]]:
    """(axis, level, value) of every warning/critical limit the catalog gives these metrics."""
    wanted = set()
    for metric in metrics:
        axis = "y2" if metric in right else "y"
        if metric == "anomaly_score":
            wanted |= {(axis, "warning", float(catalog["score"]["warning"])),
                       (axis, "critical", float(catalog["score"]["critical"]))}
            continue
        entry = next(m for m in catalog["metrics"] if m["metric"] == metric)
        for level in ("warning", "critical"):
            for bound in ("high", "low"):
                if bound in entry.get(level, {}):
                    wanted.add((axis, level, float(entry[level][bound])))
    return wanted


def test_device_charts_draw_the_catalog_limits(console, stack, publisher):
    device = "chart_dev_01"
    for i in range(6):
        publisher.publish(normal_reading(device, temperature=24 + i, humidity=40 + i, vibration=1.5, sound=62,
                                         accel={"x": 0.1, "y": -0.2, "z": 9.8}, gyro={"x": 1, "y": -2, "z": 0.5}))
    wait_for(f"{device} to be stored", lambda: any(d["device_id"] == device for d in stack.devices()), 10)
    catalog = stack.get("/api/v1/catalog")
    page = console.open(f"#/devices/{device}")
    for group, (metrics, right) in GROUPS.items():
        chart = page.get_by_test_id(f"chart-{group}")
        expect(chart, f"the {group} chart").to_be_visible()
        drawn = json.loads(chart.get_attribute("data-limits"))
        got = {(line["axis"], line["level"], float(line["value"])) for line in drawn}
        assert got == expected_limits(catalog, metrics, right), f"chart-{group}: {drawn}"
        # Each line is labelled where people read it: level, bound and value with its unit.
        items = chart.get_by_test_id("limit-lines").locator("li")
        expect(items).to_have_count(len(drawn))
        for line in drawn:
            item = chart.locator(f'li[data-level="{line["level"]}"][data-value="{line["value"]:g}"]').first
            expect(item).to_be_visible()
            expect(item).to_contain_text(line["label"])
        expect(chart.get_by_test_id("chart-canvas")).to_be_visible()
    # Spot-check the labels against the catalog in words a person reads.
    expect(page.get_by_test_id("chart-climate")).to_contain_text("Critical ≥ 60 °C")
    expect(page.get_by_test_id("chart-climate")).to_contain_text("Warning ≤ 15 %")
    expect(page.get_by_test_id("chart-vibration")).to_contain_text("Warning ≥ 7.1 mm/s")
    expect(page.get_by_test_id("chart-score")).to_contain_text("Critical ≥ 5")
    # Chart.js drew into the canvas (limit lines, axes, the readings).
    painted = page.get_by_test_id("chart-climate").get_by_test_id("chart-canvas").evaluate(
        """(canvas) => { const c = canvas.getContext('2d'); const d = c.getImageData(0, 0, canvas.width, canvas.height).data;
                        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) n++; return n; }""")
    assert painted > 1000, f"the climate chart looks empty ({painted} painted pixels)"
    expect(page.locator(".chart-empty")).to_have_count(0)
    console.shot(page, "device-charts")
    console.shot(page, "device-charts-full", full_page=True)


# 7 -------------------------------------------------------------------------------------------
# The visible strings checked per page: key -> (English, Korean), from web/src/i18n/{en,ko}.ts.
HEADER = {"navFleet": ("Fleet", "설비 현황"), "navAlerts": ("Alerts", "경보"), "navPipeline": ("Pipeline", "파이프라인"),
          "connection_live": ("Live", "실시간"), "themeDark": ("Dark", "어둡게"), "logout": ("Log out", "로그아웃")}
PAGES = {
    "#/": {"fleetTitle": ("Fleet", "설비 현황"), "fleetFilterName": ("Device", "장치"),
           "fleetSort": ("Sort", "정렬"), "sortAbnormal": ("Abnormal first", "이상 먼저"),
           "metric_temperature": ("Temperature", "온도"), "metric_humidity": ("Humidity", "습도"),
           "columnLastSeen": ("Last seen", "마지막 수신"), "columnAlert": ("Open alert", "미해결 경보"),
           "deviceStatus_online": ("Online", "온라인"), "severity_critical": ("Critical", "위험")},
    "#/alerts": {"alertsTitle": ("Alerts", "경보"), "alertsFilterOpen": ("Open (pending + acknowledged)", "미해결 (대기 + 확인됨)"),
                 "alertStatus_pending": ("Pending", "대기"), "acknowledge": ("Acknowledge", "확인"),
                 "resolve": ("Resolve", "해결"), "note": ("Note (optional)", "메모 (선택)"),
                 "alertSelectHint": ("Select an alert to see its summary, contributors and history.",
                                     "경보를 선택하면 요약, 원인 항목과 이력이 보입니다.")},
    "#/pipeline": {"pipelineTitle": ("Pipeline health", "파이프라인 상태"), "tileBroker": ("MQTT broker", "MQTT 브로커"),
                   "tileSpool": ("Spool", "스풀"), "tileDeadLetters": ("Dead letters", "데드 레터"),
                   "connected": ("connected", "연결됨")},
    "#/devices/korean_dev_01": {"deviceBack": ("Back to fleet", "설비 현황으로"), "timeRange": ("Time range", "기간"),
                                "liveTail": ("Live tail", "실시간 갱신"), "group_climate": ("Temperature and humidity", "온도와 습도"),
                                "range_15m": ("15 min", "15분"), "episodesLegend": ("Shaded: alert episodes", "음영: 경보 구간")},
}
# Text that comes from the server, not from the console's tables: only an LLM's narrative (alert
# summaries are written by the console from the alert's fields, in the chosen language).
SERVER_TEXT = "[data-testid=alert-narrative]"


def visible_text(page: Page) -> str:
    return page.evaluate(
        """(skip) => { const body = document.body.cloneNode(true); body.querySelectorAll(skip).forEach((e) => e.remove());
                       const live = [...document.body.querySelectorAll('select')];
                       body.querySelectorAll('select').forEach((s, i) => { const shown = document.createElement('span');
                           shown.textContent = live[i].options[live[i].selectedIndex]?.textContent ?? ''; s.replaceWith(shown); });
                       document.documentElement.appendChild(body); const text = body.innerText; body.remove(); return text; }""",
        SERVER_TEXT)


def test_korean_throughout(console, stack, publisher):
    raise_alert(stack, publisher, "korean_dev_01")
    page = console.open("#/")
    wait_live(page)
    expect(page.get_by_test_id("device-row").first).to_be_visible()
    expect(page.locator("nav")).to_contain_text("Fleet")  # English first (browser language en-US)
    page.get_by_test_id("language-switch").select_option("ko")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    assert page.evaluate("localStorage.getItem('moby.lang')") == "ko"

    for route, strings in PAGES.items():
        page.goto(f"{stack.base_url}/{route}")
        page.reload()  # the choice is remembered across loads
        wait_live(page)
        expect(page.locator("h1")).to_be_visible()
        if route == "#/":
            expect(page.get_by_test_id("device-row").first).to_be_visible()
        if route == "#/alerts":
            expect(page.get_by_test_id("alert-row").first).to_be_visible()
            expect(page.locator(".summary-cell").first).to_contain_text("이상 점수")
        if route == "#/pipeline":
            expect(page.get_by_test_id("pipeline-status")).to_be_visible()
        if route.startswith("#/devices/"):
            expect(page.get_by_test_id("chart-climate")).to_be_visible()
        expect(page).to_have_title("MOBY 콘솔")
        text = visible_text(page)
        for key, (english, korean) in {**HEADER, **strings}.items():
            assert korean in text, f"{route}: {key} should read {korean!r} in Korean"
            assert not re.search(rf"(?<![\w-]){re.escape(english)}(?![\w-])", text), \
                f"{route}: English {english!r} ({key}) still shown in Korean:\n{text}"
        # Numbers and times through Intl for ko-KR ("초 전" / "분 전" / "지금").
        if route == "#/":
            assert re.search(r"(초|분) 전|지금", text), f"relative times should be Korean:\n{text}"
        console.shot(page, "ko-" + (route.strip("#/").split("/")[0] or "fleet"))

    page.get_by_test_id("language-switch").select_option("en")
    expect(page.locator("nav")).to_contain_text("Fleet")
    assert page.evaluate("localStorage.getItem('moby.lang')") == "en"


# 8 -------------------------------------------------------------------------------------------
def test_no_console_errors_on_any_page(console, stack, publisher):
    """Visits every view in both languages and both themes; the console fixture fails the test on
    any console error or page error (here: none is expected at all)."""
    alert = raise_alert(stack, publisher, "quiet_dev_01")
    page = console.open("#/")
    wait_live(page)
    expect(page.get_by_test_id("device-row").first).to_be_visible()
    console.shot(page, "fleet")
    views = [("#/", "device-row"), (f"#/devices/quiet_dev_01", "chart-score"), ("#/alerts", "alert-row"),
             (f"#/alerts/{alert['id']}", "alert-detail"), ("#/pipeline", "pipeline-status"),
             ("#/devices/never_seen_device", "empty"), ("#/access", "role-reason")]
    for lang in ("en", "ko"):
        page.get_by_test_id("language-switch").select_option(lang)
        for route, testid in views:
            page.goto(f"{stack.base_url}/{route}")
            expect(page.get_by_test_id(testid).first, f"{route} should show {testid}").to_be_visible()
            page.wait_for_timeout(300)  # let late requests and renders finish before the next view
            console.shot(page, f"{lang}-{route.strip('#/').replace('/', '-') or 'fleet'}")
    page.goto(f"{stack.base_url}/#/")
    page.get_by_test_id("language-switch").select_option("en")
    page.get_by_test_id("theme-toggle").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.get_by_test_id("device-row").first).to_be_visible()
    console.shot(page, "fleet-dark")
    page.get_by_test_id("theme-toggle").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert console.unexpected_errors() == [], console.unexpected_errors()


# 9 -------------------------------------------------------------------------------------------
# Device registry and profiles (issue 16). The browser logs a refused PUT itself: expected once.
REFUSED_422 = r"Failed to load resource: the server responded with a status of 422 \(Unprocessable Entity\)"


def chart_limits(page: Page, group: str) -> set[tuple[str, str, float]]:
    drawn = json.loads(page.get_by_test_id(f"chart-{group}").get_attribute("data-limits"))
    return {(line["axis"], line["level"], float(line["value"])) for line in drawn}


def test_register_a_device_with_a_profile_through_the_form(console, stack, publisher):
    device = "cold_room_01"
    page = console.open(f"#/devices/{device}")
    wait_live(page)
    expect(page.get_by_test_id("empty")).to_contain_text("The server does not know this device")
    page.get_by_test_id("device-register").click()
    form = page.get_by_test_id("device-form")
    expect(form.locator("h2")).to_have_text(f"Register {device}")
    form.get_by_test_id("form-name").fill("Cold room 1")
    form.get_by_test_id("form-location").fill("plant b")  # a space: the server refuses it
    form.get_by_test_id("form-line").fill("line-3")
    form.get_by_test_id("form-profile").select_option("cold_room")
    # The form says how the chosen profile's limits differ from the default's.
    expect(form.get_by_test_id("form-profile-changes")).to_contain_text("Temperature: Critical ≥ 12 °C (default 60 °C)")
    form.get_by_test_id("form-label-cell").fill("A3")
    form.get_by_test_id("form-save").click()

    # The 422's field error is said next to the location field, which gets the focus.
    error = form.locator('[data-testid="field-error"][data-field="location"]')
    expect(error).to_have_text(
        "Use letters and digits (any script) and - _ . :, starting with a letter or digit (found a space, U+0020).")
    expect(form.get_by_test_id("form-location")).to_be_focused()
    expect(form.get_by_test_id("form-location")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_test_id("form-invalid")).to_be_visible()
    expect(form.locator('[data-testid="field-error"]')).to_have_count(1)
    console.shot(page, "form-422")
    # ... and in Korean, with what was typed kept.
    page.get_by_test_id("language-switch").select_option("ko")
    expect(error).to_have_text(
        "문자와 숫자(모든 문자 체계)와 - _ . : 만 쓸 수 있고, 문자나 숫자로 시작해야 합니다 (입력된 문자: 공백 U+0020).")
    expect(form.locator("h2")).to_have_text(f"{device} 등록")
    expect(form.get_by_test_id("form-name")).to_have_value("Cold room 1")
    console.shot(page, "form-422-ko")
    page.get_by_test_id("language-switch").select_option("en")
    assert stack.http(f"/api/v1/devices/{device}")[0] == 404, "a refused form registers nothing"

    form.get_by_test_id("form-location").fill("plant-b")
    expect(error).to_have_count(0)  # the note goes once the field is changed
    form.get_by_test_id("form-save").click()
    expect(page.get_by_test_id("save-result")).to_have_text(
        "Registered. Its readings will be judged by the cold_room profile.")
    expect(form).to_have_count(0)
    meta = page.get_by_test_id("device-meta")
    expect(meta).to_have_attribute("data-profile", "cold_room")
    expect(meta.get_by_test_id("meta-name")).to_have_text("Cold room 1")
    expect(meta.get_by_test_id("meta-location")).to_have_text("plant-b")
    expect(meta.get_by_test_id("meta-line")).to_have_text("line-3")
    expect(meta.get_by_test_id("meta-profile")).to_have_text("cold_room")
    expect(meta.get_by_test_id("meta-labels")).to_have_text("cell: A3")
    expect(page.get_by_test_id("device-status")).to_have_attribute("data-status", "stale")  # never heard from
    body = stack.get(f"/api/v1/devices/{device}")
    assert (body["name"], body["location"], body["line"], body["profile"], body["labels"]) == \
        ("Cold room 1", "plant-b", "line-3", "cold_room", {"cell": "A3"}), body

    # Its readings arrive: the charts draw cold_room's limits, not the default's.
    for i in range(4):
        publisher.publish(normal_reading(device, temperature=4 + i * 0.5, humidity=62))
    expect(page.get_by_test_id("device-status")).to_have_attribute("data-status", "online", timeout=15_000)
    climate = page.get_by_test_id("chart-climate")
    expect(climate).to_contain_text("Critical ≥ 12 °C")
    expect(climate).to_contain_text("Warning ≥ 8 °C")
    expect(climate).not_to_contain_text("60 °C")
    assert {("y", "warning", 8.0), ("y", "critical", 12.0), ("y2", "warning", 85.0), ("y2", "warning", 30.0),
            ("y2", "critical", 95.0)} == chart_limits(page, "climate")
    expect(climate.locator('li[data-level="critical"][data-value="12"]')).to_be_visible()
    expect(page.get_by_test_id("chart-profile")).to_have_text("Limits of the cold_room profile")
    # Metrics the profile leaves alone keep the default limits.
    expect(page.get_by_test_id("chart-vibration")).to_contain_text("Warning ≥ 7.1 mm/s")
    page.get_by_test_id("range-picker").get_by_text("15 min").click()  # tail every 5 s
    expect(climate.locator(".chart-empty"), "the readings drawn under the cold_room limits").to_have_count(
        0, timeout=15_000)
    console.shot(page, "device-cold-room")

    # Edit: another line; the view reflects it at once and the server has it.
    page.get_by_test_id("device-edit").click()
    form = page.get_by_test_id("device-form")
    expect(form.locator("h2")).to_have_text(f"Edit {device}")
    expect(form.get_by_test_id("form-profile")).to_have_value("cold_room")
    expect(form.get_by_test_id("form-label-cell")).to_have_value("A3")
    form.get_by_test_id("form-line").fill("line-4")
    console.shot(page, "form-edit")
    form.get_by_test_id("form-save").click()
    expect(page.get_by_test_id("save-result")).to_have_text("Saved. The next readings are judged by the cold_room profile.")
    expect(meta.get_by_test_id("meta-line")).to_have_text("line-4")
    assert stack.get(f"/api/v1/devices/{device}")["line"] == "line-4"

    # 20 °C is normal for the default profile but past cold_room's critical 12 °C: the alert
    # names the profile, and the console's summary says so too.
    for _ in range(3):
        publisher.publish(normal_reading(device, temperature=20, humidity=62))
    alert = wait_for(f"an alert for {device}", lambda: stack.alerts(device=device), 15)[0]
    assert alert["profile"] == "cold_room" and "(profile cold_room)" in alert["summary"], alert
    open_alert = page.locator(f'[data-testid="device-open-alert"][data-alert-id="{alert["id"]}"]')
    expect(open_alert).to_contain_text(f"anomaly on {device} (profile cold_room) since")
    expect(open_alert).to_contain_text("past the critical limit 12")
    page.get_by_test_id("language-switch").select_option("ko")
    expect(open_alert).to_contain_text(f"{device} (프로필 cold_room) 위험 이상")
    page.get_by_test_id("language-switch").select_option("en")
    console.shot(page, "device-cold-room-alert")

    console.allow(REFUSED_422)
    assert [e.text for e in console.errors if re.fullmatch(REFUSED_422, e.text)] == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]


# 10 ------------------------------------------------------------------------------------------
def row_order(page: Page) -> list[str]:
    """The fleet table's rows as shown: "#<group key>" for headers, device ids for devices."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="fleet-table"] tbody tr[data-testid]')].map((tr) =>
              tr.dataset.testid === 'group-row' ? '#' + tr.dataset.groupKey : tr.dataset.deviceId)""")


def test_fleet_filters_and_groups_by_location_and_line(console, stack, publisher):
    registry = {  # device -> its registry entry (PUT), then one reading each
        "reg_press_01": {"name": "Press 1", "location": "plant-c", "line": "line-1", "profile": "press"},
        "reg_press_02": {"location": "plant-c", "line": "line-2"},
        "reg_freezer_01": {"name": "Freezer A", "location": "plant-d", "line": "line-1", "profile": "cold_room",
                           "labels": {"vendor": "Acme"}},
    }
    for device, entry in registry.items():
        status, body = stack.http(f"/api/v1/devices/{device}", "PUT", entry)
        assert status == 201, (status, body)
        publisher.publish(normal_reading(device, temperature=5 if entry.get("profile") == "cold_room" else 25))
    # A reading may carry its location and line itself (moby-sensor --location/--line).
    publisher.publish({**normal_reading("reg_walkin_01", temperature=25), "location": "plant-d", "line": "line-2"})
    publisher.publish(normal_reading("reg_nowhere_01"))
    wait_for("the walk-in's location from its reading",
             lambda: stack.get("/api/v1/devices/reg_walkin_01").get("location") == "plant-d", 10)

    page = console.open("#/")
    wait_live(page)
    expect(page.locator('[data-testid="device-row"][data-device-id="reg_walkin_01"]')).to_have_count(1, timeout=15_000)
    row = page.locator('[data-testid="device-row"][data-device-id="reg_freezer_01"]')
    expect(row).to_have_attribute("data-profile", "cold_room")
    expect(row.get_by_test_id("device-name")).to_have_text("Freezer A")
    expect(row.locator('td[data-field="location"]')).to_have_text("plant-d")
    expect(row.locator('td[data-field="line"]')).to_have_text("line-1")
    expect(row.locator('td[data-field="profile"]')).to_have_text("cold_room")
    expect(row).to_have_attribute("data-condition", "normal")  # 5 °C: normal for a cold room

    # Filters: the selects offer the locations present; lines narrow to the chosen location.
    location = page.get_by_test_id("fleet-filter-location")
    for value in ("plant-c", "plant-d"):
        expect(location.locator(f'option[value="{value}"]')).to_have_count(1)
    location.select_option("plant-c")
    expect(page.get_by_test_id("device-row")).to_have_count(2)
    assert sorted(row_order(page)) == ["reg_press_01", "reg_press_02"]
    line = page.get_by_test_id("fleet-filter-line")
    assert line.locator("option").all_inner_texts() == ["All", "line-1", "line-2"]
    line.select_option("line-1")
    expect(page.get_by_test_id("device-row")).to_have_count(1)
    expect(page.get_by_test_id("device-row")).to_have_attribute("data-device-id", "reg_press_01")
    expect(page.get_by_test_id("fleet-count")).to_contain_text("1 of")
    console.shot(page, "fleet-filter-location-line")
    line.select_option("*")
    location.select_option("*")
    page.get_by_test_id("fleet-filter-profile").select_option("cold_room")
    expect(page.locator('[data-testid="device-row"][data-device-id="reg_freezer_01"]')).to_have_count(1)
    expect(page.locator('[data-testid="device-row"][data-device-id="reg_press_01"]')).to_have_count(0)
    page.get_by_test_id("fleet-filter-profile").select_option("*")
    page.get_by_test_id("fleet-sort").select_option("id")  # a known order inside each group
    page.get_by_test_id("fleet-filter-text").fill("reg_")  # this test's devices only

    # Group by location: each location's devices under its header, devices without one last.
    page.get_by_test_id("fleet-group-by").select_option("location")
    plant_c = page.locator('[data-testid="group-row"][data-group-key="location:plant-c"]')
    expect(plant_c).to_have_attribute("data-count", "2")
    expect(plant_c).to_contain_text("Location plant-c")
    expect(plant_c).to_contain_text("2 devices")
    expect(page.locator('[data-testid="group-row"][data-group-key="location:plant-d"]')).to_have_attribute("data-count", "2")
    assert row_order(page) == ["#location:plant-c", "reg_press_01", "reg_press_02",
                               "#location:plant-d", "reg_freezer_01", "reg_walkin_01",
                               "#location:", "reg_nowhere_01"]
    expect(page.locator('[data-testid="group-row"][data-group-key="location:"]')).to_contain_text("No location")
    console.shot(page, "fleet-grouped-location")

    # Location, then line; a collapsed location keeps its header and count.
    page.get_by_test_id("fleet-group-by").select_option("locationLine")
    order = row_order(page)
    assert order[:5] == ["#location:plant-c", "#location:plant-c/line:line-1", "reg_press_01",
                         "#location:plant-c/line:line-2", "reg_press_02"], order
    assert order[5:10] == ["#location:plant-d", "#location:plant-d/line:line-1", "reg_freezer_01",
                           "#location:plant-d/line:line-2", "reg_walkin_01"], order
    console.shot(page, "fleet-grouped-location-line")
    plant_c.get_by_role("button").click()
    expect(plant_c.get_by_role("button")).to_have_attribute("aria-expanded", "false")
    expect(page.locator('[data-testid="device-row"][data-device-id="reg_press_01"]')).to_have_count(0)
    expect(plant_c).to_have_attribute("data-count", "2")
    assert row_order(page)[:2] == ["#location:plant-c", "#location:plant-d"]
    plant_c.get_by_role("button").click()
    expect(page.locator('[data-testid="device-row"][data-device-id="reg_press_01"]')).to_have_count(1)

    # Korean headers; the grouping is remembered across loads.
    page.get_by_test_id("language-switch").select_option("ko")
    expect(plant_c).to_contain_text("위치 plant-c")
    expect(plant_c).to_contain_text("장치 2대")
    page.reload()
    expect(page.get_by_test_id("fleet-group-by")).to_have_value("locationLine")
    expect(plant_c).to_be_visible()
    console.shot(page, "fleet-grouped-ko")


# 11 ------------------------------------------------------------------------------------------
# Logging in (moby-server's authentication): the login page, roles, logout, the Access page.
FORBIDDEN_403 = r"Failed to load resource: the server responded with a status of 403 \(Forbidden\)"


def test_login_with_a_wrong_password_says_so(console, stack):
    page = console.open("#/alerts", label="login", user=None)
    expect(page.get_by_test_id("login-form")).to_be_visible()
    expect(page.get_by_test_id("session-user")).to_have_count(0)
    expect(page.get_by_test_id("connection-state"), "no stream before logging in").to_have_count(0)
    expect(page.get_by_test_id("login-name"), "the first field has the focus").to_be_focused()
    expect(page.get_by_label("Name")).to_have_attribute("autocomplete", "username")
    expect(page.get_by_label("Password")).to_have_attribute("type", "password")

    page.get_by_test_id("login-name").fill("night-shift")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("login-password")).to_be_focused()
    page.keyboard.type("not-the-password")
    page.keyboard.press("Enter")  # submits the form
    error = page.get_by_test_id("login-error")
    expect(error).to_have_text("The server refused the login: wrong name or password.")
    expect(error).to_have_attribute("role", "alert")
    expect(page.get_by_test_id("login-password")).to_have_value("")
    expect(page.get_by_test_id("login-password")).to_be_focused()
    expect(page.get_by_test_id("login-name")).to_have_value("night-shift")
    expect(page.get_by_test_id("session-user")).to_have_count(0)
    console.shot(page, "wrong-password")

    page.get_by_test_id("language-switch").select_option("ko")
    expect(error).to_have_text("서버가 로그인을 거부했습니다: wrong name or password")
    expect(page.get_by_test_id("login-submit")).to_have_text("로그인")
    expect(page.get_by_label("비밀번호")).to_be_visible()
    console.shot(page, "wrong-password-ko")
    page.get_by_test_id("language-switch").select_option("en")

    # The right password then works (one mistake locks nothing), on the page that was asked for.
    page.get_by_test_id("login-password").fill(USERS["night-shift"][1])
    page.get_by_test_id("login-password").press("Enter")
    expect(page.get_by_test_id("session-user")).to_have_attribute("data-name", "night-shift")
    expect(page).to_have_url(re.compile(r"#/alerts$"))
    expect(page.locator("h1")).to_contain_text("Alerts")
    # The start-up check (not logged in yet) and the wrong password: two 401s the browser logs.
    console.allow(UNAUTHORIZED_401, page="login")


# 12 ------------------------------------------------------------------------------------------
def test_login_shows_the_fleet_and_keeps_the_route(console, stack, publisher):
    device = "login_dev_01"
    publisher.publish(normal_reading(device, temperature=27.5))
    wait_for(f"{device} to be stored", lambda: any(d["device_id"] == device for d in stack.devices()), 10)

    page = console.open("#/", label="login", user=None)
    expect(page.get_by_test_id("login-form")).to_be_visible()
    console.shot(page, "login-page")
    log_in_on_page(page, "operator")
    row = page.locator(f'[data-testid="device-row"][data-device-id="{device}"]')
    expect(row, "the fleet after logging in").to_have_count(1)
    expect(row.locator('td[data-metric="temperature"]')).to_have_text("27.5 °C")
    wait_live(page)  # the session cookie authenticates the /ws upgrade too
    user = page.get_by_test_id("session-user")
    expect(user).to_have_attribute("data-role", "operator")
    expect(user).to_contain_text("operator")
    expect(page.get_by_test_id("logout")).to_have_text("Log out")
    expect(page.locator("nav").get_by_role("link", name="Access"), "admins only").to_have_count(0)
    console.shot(page, "logged-in-fleet")

    # The session cookie: HttpOnly (scripts never see it), SameSite=Strict.
    context = console.context_for(None)
    cookies = [c for c in context.cookies(stack.base_url) if c["name"] == "moby_session"]
    assert len(cookies) == 1 and cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict", cookies
    assert "moby_session" not in page.evaluate("document.cookie")
    page.reload()  # still logged in
    expect(row).to_have_count(1)
    expect(page.get_by_test_id("login-form")).to_have_count(0)

    # A deep link opened while logged out opens after logging in.
    context.clear_cookies()
    page.goto(f"{stack.base_url}/#/devices/{device}")
    page.reload()
    expect(page.get_by_test_id("login-form")).to_be_visible()
    log_in_on_page(page, "operator")
    expect(page).to_have_url(re.compile(rf"#/devices/{device}$"))
    expect(page.get_by_test_id("device-meta")).to_be_visible()
    expect(page.get_by_test_id("device-edit")).to_be_enabled()  # an operator may edit
    expect(page.get_by_test_id("role-reason")).to_have_count(0)
    console.allow(UNAUTHORIZED_401, page="login")


# 13 ------------------------------------------------------------------------------------------
def test_viewer_sees_actions_disabled_with_the_reason(console, stack, publisher):
    alert = raise_alert(stack, publisher, "viewer_dev_01")
    page = console.open(f"#/alerts/{alert['id']}", user="viewer")
    wait_live(page)  # a viewer reads /ws
    expect(page.get_by_test_id("session-user")).to_have_attribute("data-role", "viewer")
    expect(page.get_by_test_id("session-role")).to_have_text("viewer")
    detail = page.get_by_test_id("alert-detail")
    expect(detail).to_have_attribute("data-status", "pending")
    ack = detail.get_by_test_id("ack-button")
    expect(ack).to_be_disabled()
    expect(detail.get_by_test_id("resolve-button")).to_be_disabled()
    expect(detail.get_by_test_id("note-field")).to_be_disabled()
    reason = detail.get_by_test_id("role-reason")
    expect(reason).to_have_text("Your role (viewer) cannot acknowledge or resolve alerts.")
    expect(reason).to_be_visible()
    assert ack.get_attribute("aria-describedby") == reason.get_attribute("id"), "the reason describes the button"
    console.shot(page, "viewer-alert")

    # The keyboard shortcut (A) says why instead of doing nothing.
    row = page.locator(f'[data-testid="alert-row"][data-alert-id="{alert["id"]}"]')
    row.focus()
    page.keyboard.press("a")
    expect(page.get_by_test_id("bulk-actions").get_by_test_id("action-result")).to_have_text(
        "Your role (viewer) cannot acknowledge or resolve alerts.")

    page.get_by_test_id("language-switch").select_option("ko")
    expect(reason).to_have_text("현재 역할(조회자)로는 경보를 확인하거나 해결할 수 없습니다.")
    expect(page.get_by_test_id("bulk-actions").get_by_test_id("action-result")).to_have_text(
        "현재 역할(조회자)로는 경보를 확인하거나 해결할 수 없습니다.")
    expect(page.get_by_test_id("session-role")).to_have_text("조회자")
    console.shot(page, "viewer-alert-ko")
    page.get_by_test_id("language-switch").select_option("en")

    # The server refuses it too (403 with a sentence); the alert stays pending.
    status, body = page.evaluate(
        """async (id) => { const r = await fetch(`/api/v1/alerts/${id}/acknowledge`, {method: 'POST',
               headers: {'Content-Type': 'application/json'}, body: '{}'}); return [r.status, await r.json()]; }""",
        alert["id"])
    assert status == 403 and body.get("error"), (status, body)
    console.allow(FORBIDDEN_403)
    assert stack.get(f"/api/v1/alerts/{alert['id']}")["alert"]["status"] == "pending"

    # Device editing: disabled, with its reason.
    page.goto(f"{stack.base_url}/#/devices/viewer_dev_01")
    expect(page.get_by_test_id("device-meta")).to_be_visible()
    expect(page.get_by_test_id("device-edit")).to_be_disabled()
    expect(page.locator("#device-edit-reason")).to_have_text("Your role (viewer) cannot edit or register devices.")
    expect(page.locator("nav").get_by_role("link", name="Access")).to_have_count(0)
    console.shot(page, "viewer-device")


# 14 ------------------------------------------------------------------------------------------
def test_logout_returns_to_the_login_page(console, stack):
    page = console.open("#/alerts", label="shift", user=None)
    log_in_on_page(page, "shift-lead")
    wait_live(page)
    expect(page.locator("h1")).to_contain_text("Alerts")
    wait_for("the stream's first snapshot", lambda: probe(page)["events"], 10)

    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-form")).to_be_visible()
    expect(page.get_by_test_id("login-notice")).to_have_text("You are logged out.")
    expect(page.get_by_test_id("login-name")).to_be_focused()
    expect(page.get_by_test_id("session-user")).to_have_count(0)
    expect(page.get_by_test_id("connection-state")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"#/alerts$"))
    console.shot(page, "logged-out")
    # Ended on the server, not only in the page: this browser's cookie no longer logs in.
    assert console.context_for(None).request.get(f"{stack.base_url}/api/v1/session").status == 401
    seen = probe(page)
    sockets_before = len(seen["sockets"])
    had = max(e["seq"] for e in seen["events"])

    # Logging in again: the same page, and the stream resumes after the last event it had.
    log_in_on_page(page, "shift-lead")
    expect(page.locator("h1")).to_contain_text("Alerts")
    wait_live(page)
    resumed = probe(page)["sockets"][sockets_before:]
    assert resumed and resumed[0]["url"].endswith(f"/ws?since={had}"), (resumed, had)

    # A reload after logging out shows the login page (the cookie is gone).
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-form")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("login-form")).to_be_visible()
    expect(page.get_by_test_id("login-notice")).to_have_count(0)  # at start: nothing "ended"
    console.allow(UNAUTHORIZED_401, page="shift")


# 15 ------------------------------------------------------------------------------------------
def test_admin_manages_users_and_tokens(console, stack):
    page = console.open("#/", user="admin")
    wait_live(page)
    expect(page.get_by_test_id("session-role")).to_have_text("admin")
    page.locator("nav").get_by_role("link", name="Access").click()
    expect(page).to_have_url(re.compile(r"#/access$"))
    expect(page.locator("h1")).to_have_text("Access")
    users = page.get_by_test_id("access-users")
    for name, (role, _) in USERS.items():
        expect(users.locator(f'[data-testid="user-row"][data-name="{name}"]')).to_have_attribute("data-role", role)

    # A password the server finds too short: its reason is said at the field, the form keeps its values.
    console.allow(r"Failed to load resource: the server responded with a status of 422 \(Unprocessable Entity\)")
    users.get_by_test_id("user-name").fill("auditor-01")
    users.get_by_test_id("user-password").fill("short")
    users.get_by_test_id("user-add").click()
    expect(users.locator('[data-testid="field-error"][data-field="password"]')).to_contain_text("at least")
    expect(users.get_by_test_id("user-name")).to_have_value("auditor-01")
    expect(users.get_by_test_id("user-result")).to_have_count(0)

    # Add a viewer: it can log in at once.
    password = "auditor-pass-2026"
    users.get_by_test_id("user-name").fill("auditor-01")
    users.get_by_test_id("user-role").select_option("viewer")
    users.get_by_test_id("user-password").fill(password)
    users.get_by_test_id("user-password").press("Enter")
    expect(users.get_by_test_id("user-result")).to_have_text("Added auditor-01 (viewer). They can log in now.")
    auditor = users.locator('[data-testid="user-row"][data-name="auditor-01"]')
    expect(auditor).to_have_attribute("data-role", "viewer")
    status, body = stack.http("/api/v1/session", "POST", {"name": "auditor-01", "password": password}, anonymous=True)
    assert status == 200 and body["user"] == {"name": "auditor-01", "role": "viewer"}, (status, body)
    console.shot(page, "access-user-added")

    # Remove it (the button asks once more): it can no longer log in.
    auditor.get_by_test_id("user-remove").click()
    expect(auditor.get_by_test_id("user-remove-confirm")).to_be_focused()
    auditor.get_by_test_id("user-remove-confirm").click()
    expect(users.get_by_test_id("user-result")).to_have_text("Removed auditor-01.")
    expect(auditor).to_have_count(0)
    assert stack.http("/api/v1/session", "POST", {"name": "auditor-01", "password": password}, anonymous=True)[0] == 401

    # A token for a wallboard script: its secret is shown once, with a copy button and a warning.
    tokens = page.get_by_test_id("access-tokens")
    tokens.get_by_test_id("token-role").select_option("viewer")
    tokens.get_by_test_id("token-name").fill("wallboard")
    tokens.get_by_test_id("token-create").click()
    field = tokens.get_by_test_id("token-secret")
    expect(field).to_have_value(re.compile(r"^moby_\S+$"))
    expect(field).to_be_focused()
    secret = field.input_value()
    expect(tokens.get_by_test_id("token-secret-warning")).to_have_text(
        "Copy it now: it will not be shown again. Whoever has it can act with this token's role.")
    console.context_for("admin").grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.base_url)
    tokens.get_by_test_id("token-copy").click()
    expect(tokens.get_by_test_id("token-copy-result")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    wallboard = tokens.locator('[data-testid="token-row"]', has_text="wallboard")
    expect(wallboard).to_have_attribute("data-role", "viewer")
    assert stack.http("/api/v1/alerts?limit=1", token=secret)[0] == 200, "the new token works"
    console.shot(page, "access-token-secret")
    tokens.get_by_test_id("token-secret-done").click()
    expect(field).to_have_count(0)
    page.reload()
    expect(wallboard).to_be_visible()
    assert secret not in page.content(), "the secret is never shown again"

    # A device token needs its device.
    tokens.get_by_test_id("token-role").select_option("device")
    tokens.get_by_test_id("token-create").click()
    expect(tokens.locator('[data-testid="field-error"][data-field="device"]')).to_have_text("Required.")
    expect(tokens.get_by_test_id("token-device")).to_be_focused()
    tokens.get_by_test_id("token-device").fill("token_dev_01")
    tokens.get_by_test_id("token-create").click()
    expect(tokens.get_by_test_id("token-secret")).to_have_value(re.compile(r"^moby_\S+$"))
    expect(tokens.locator('[data-testid="token-row"][data-device="token_dev_01"]')).to_have_attribute("data-role", "device")
    tokens.get_by_test_id("token-secret-done").click()

    # Revoke the wallboard's token: refused from then on.
    wallboard.get_by_test_id("token-revoke").click()
    wallboard.get_by_test_id("token-revoke-confirm").click()
    expect(tokens.get_by_test_id("token-result")).to_have_text("Revoked wallboard.")
    expect(wallboard).to_have_count(0)
    assert stack.http("/api/v1/alerts?limit=1", token=secret)[0] == 401, "a revoked token is refused"

    page.get_by_test_id("language-switch").select_option("ko")
    expect(page.locator("h1")).to_have_text("접근 관리")
    expect(tokens.locator("h2")).to_have_text("API 토큰")
    console.shot(page, "access-ko")
    page.get_by_test_id("language-switch").select_option("en")


def test_long_names_are_cut_not_pushing_columns_away(console, stack, publisher):
    # Device ids may be 128 bytes, locations and lines 64, none with a space to wrap at: each long
    # name is cut with an ellipsis (whole in its tooltip), so one device cannot widen its column
    # past the rest of the table.
    device = "long_" + "x" * 90
    location = "building-7.hall-b.north-wing.bay-12.by-the-compressor-room-door"  # 64 bytes at most
    status, body = stack.http(f"/api/v1/devices/{device}", "PUT", {"location": location, "line": "line-1"})
    assert status == 201, (status, body)
    publisher.publish(normal_reading(device))
    page = console.open("#/")
    wait_live(page)
    row = page.locator(f'[data-testid="device-row"][data-device-id="{device}"]')
    expect(row).to_have_count(1, timeout=15_000)
    cells = {"device": row.locator('th[scope="row"]'), "location": row.locator('td[data-field="location"]')}
    expect(cells["location"]).to_have_attribute("title", location)
    expect(cells["device"]).to_have_attribute("title", device)
    em = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    for name, limit in (("device", 28), ("location", 16)):
        size = cells[name].evaluate("(e) => ({width: e.clientWidth, content: e.scrollWidth})")
        # At most its limit (plus padding), and visibly cut: the whole name is wider than the cell.
        assert size["width"] <= (limit + 2) * em and size["content"] > size["width"], (name, size, em)
    console.shot(page, "long-names")
