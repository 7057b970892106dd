"""Fixtures of the browser tests: one real stack (Mosquitto, influxd, moby-server) for the
session, with the accounts of `USERS` made by moby-server's CLI before it starts, one headless
Debian Chromium driven by Playwright, and per test a `console`: fresh browser contexts (one per
user: a page is logged in as `operator` unless a test names another user, or nobody) whose pages
are watched for console errors and page errors (any that the test did not expect narrowly fails
it) and screenshotted into .build/browser-screenshots/. Python's own API calls (`stack.http`) use
an admin token (`moby-server tokens create`)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

sys.path.insert(0, str(Path(__file__).parents[1] / "harness"))
from moby_harness import REPO, Stack, browser_login  # noqa: E402

CHROMIUM = os.environ.get("MOBY_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("MOBY_SCREENSHOTS", REPO / ".build" / "browser-screenshots"))
TIMINGS_FILE = REPO / ".build" / "browser-timings.json"
PROBE = (Path(__file__).parent / "probe.js").read_text()
VIEWPORT = {"width": 1280, "height": 800}

timings: dict[str, Any] = {}

# The accounts of the browser tests: name -> (role, password). Pages are logged in as
# DEFAULT_USER unless a test names another account (or nobody, to see the login page).
USERS: dict[str, tuple[str, str]] = {
    "operator": ("operator", "operator-pass-2026"),
    "viewer": ("viewer", "viewer-pass-2026"),
    "admin": ("admin", "admin-pass-2026"),
    "김민수": ("operator", "kim-minsu-pass-2026"),  # test 3: the actor the history records
    "operator-a": ("operator", "operator-a-pass-2026"),  # test 4: two people, two browsers
    "operator-b": ("operator", "operator-b-pass-2026"),
    "shift-lead": ("operator", "shift-lead-pass-2026"),  # logs in and out through the page
    "night-shift": ("viewer", "night-shift-pass-2026"),  # types a wrong password once, then the right one
}
DEFAULT_USER = "operator"
# What Chromium logs for each 401 answer: the console's start-up GET /api/v1/session when not
# logged in, a wrong password, requests after a logout. Expected only where a test says so.
UNAUTHORIZED_401 = r"Failed to load resource: the server responded with a status of 401 \(Unauthorized\)"

# Each account's session cookie, reused by later tests' contexts (so a run logs each account in
# about once, far from any limit on login attempts); checked before use, renewed when it ended.
_session_cookies: dict[str, list[dict[str, Any]]] = {}


@pytest.fixture(scope="session")
def stack():
    stack = Stack("browser", users=USERS).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium) or set MOBY_CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


class ConsoleError:
    def __init__(self, page: str, kind: str, text: str, url: str):
        self.page, self.kind, self.text, self.url = page, kind, text, url

    def __repr__(self) -> str:
        return f"[{self.page}] {self.kind}: {self.text} ({self.url})"


class Console:
    """The operator console in browser contexts: one per user (one person's browser, several
    tabs), logged in through its session cookie; `None` is a browser nobody logged in to."""

    def __init__(self, browser: Browser, stack: Stack, test_name: str, color_scheme: str = "light"):
        self.browser = browser
        self.stack = stack
        self.test_name = test_name
        self.color_scheme = color_scheme
        self.contexts: dict[str | None, BrowserContext] = {}
        self.errors: list[ConsoleError] = []
        self.allowed: list[tuple[re.Pattern[str], str | None]] = []
        self.pages: dict[str, Page] = {}
        self.shots: list[Path] = []

    @property
    def context(self) -> BrowserContext:
        return self.context_for(DEFAULT_USER)

    def context_for(self, user: str | None) -> BrowserContext:
        """The browser of `user` (one of USERS), logged in; of nobody for None."""
        if user in self.contexts:
            return self.contexts[user]
        context = self.browser.new_context(viewport=VIEWPORT, locale="en-US", color_scheme=self.color_scheme)
        context.add_init_script(PROBE)
        # Light theme unless a test switches it (the toggle is remembered in localStorage).
        context.add_init_script(
            "try { if (!localStorage.getItem('moby.theme')) localStorage.setItem('moby.theme', 'light'); } catch (e) {}")
        context.set_default_timeout(15_000)
        self.contexts[user] = context
        if user is not None:
            self.log_in(context, user)
        return context

    def log_in(self, context: BrowserContext, user: str) -> None:
        """Gives `context` a session of `user`: the one an earlier test got if it still holds
        (GET /api/v1/session answers 200), else a new one (POST /api/v1/session)."""
        cookies = _session_cookies.get(user)
        if cookies:
            context.add_cookies(cookies)
            if context.request.get(f"{self.stack.base_url}/api/v1/session").status == 200:
                return
            context.clear_cookies()
        _session_cookies[user] = browser_login(context, self.stack, user)

    def page(self, label: str = "main", user: str | None = DEFAULT_USER) -> Page:
        """The tab `label`, opened (the first time) in the browser of `user`."""
        if label in self.pages:
            return self.pages[label]
        page = self.context_for(user).new_page()

        def on_console(message) -> None:
            if message.type == "error":
                location = message.location or {}
                self.errors.append(ConsoleError(label, "console.error", message.text, location.get("url", "")))

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(ConsoleError(label, "pageerror", str(error), page.url)))
        page.on("crash", lambda _: self.errors.append(ConsoleError(label, "crash", "the page crashed", page.url)))
        self.pages[label] = page
        return page

    def open(self, route: str = "#/", label: str = "main", user: str | None = DEFAULT_USER) -> Page:
        page = self.page(label, user)
        page.goto(f"{self.stack.base_url}/{route}")
        return page

    def shot(self, page: Page, name: str, full_page: bool = False) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}--{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.shots.append(path)
        return path

    def allow(self, pattern: str, page: str | None = None) -> None:
        """Expects console errors matching `pattern` (a full match), on `page` only if named."""
        self.allowed.append((re.compile(pattern), page))

    def unexpected_errors(self) -> list[ConsoleError]:
        return [e for e in self.errors
                if not any(p.fullmatch(e.text) and (pg is None or pg == e.page) for p, pg in self.allowed)]

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()
        self.contexts.clear()


@pytest.fixture
def console(browser, stack, request):
    name = request.node.name.removeprefix("test_")
    console = Console(browser, stack, name)
    yield console
    unexpected = console.unexpected_errors()
    console.close()
    # Every test, not only test 8: a page of the console must not log errors.
    assert not unexpected, "console errors on the page:\n" + "\n".join(map(repr, unexpected))


@pytest.fixture
def record_timing():
    def record(name: str, value: Any) -> None:
        timings[name] = value

    return record


def pytest_sessionfinish(session, exitstatus):
    if timings:
        TIMINGS_FILE.parent.mkdir(parents=True, exist_ok=True)
        TIMINGS_FILE.write_text(json.dumps(timings, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if timings:
        terminalreporter.section("measured by the browser tests (not asserted beyond generous bounds)")
        for name, value in timings.items():
            terminalreporter.write_line(f"{name}: {value}")
    terminalreporter.write_line(f"screenshots: {SCREENSHOTS}")
