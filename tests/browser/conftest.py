"""Fixtures of the browser tests: one real stack (Mosquitto, influxd, moby-server) for the
session, one headless Debian Chromium driven by Playwright, and per test a `console`: a fresh
browser context whose pages are watched for console errors and page errors (any that the test
did not expect narrowly fails it) and screenshotted into .build/browser-screenshots/."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

sys.path.insert(0, str(Path(__file__).parents[1] / "harness"))
from moby_harness import REPO, Stack  # noqa: E402

CHROMIUM = os.environ.get("MOBY_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("MOBY_SCREENSHOTS", REPO / ".build" / "browser-screenshots"))
TIMINGS_FILE = REPO / ".build" / "browser-timings.json"
PROBE = (Path(__file__).parent / "probe.js").read_text()
VIEWPORT = {"width": 1280, "height": 800}

timings: dict[str, Any] = {}


@pytest.fixture(scope="session")
def stack():
    stack = Stack("browser").start()
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
    """The operator console in one browser context (one person's browser, several tabs)."""

    def __init__(self, browser: Browser, stack: Stack, test_name: str, color_scheme: str = "light"):
        self.stack = stack
        self.test_name = test_name
        self.context = browser.new_context(viewport=VIEWPORT, locale="en-US", color_scheme=color_scheme)
        self.context.add_init_script(PROBE)
        # Light theme unless a test switches it (the toggle is remembered in localStorage).
        self.context.add_init_script(
            "try { if (!localStorage.getItem('moby.theme')) localStorage.setItem('moby.theme', 'light'); } catch (e) {}")
        self.context.set_default_timeout(15_000)
        self.errors: list[ConsoleError] = []
        self.allowed: list[tuple[re.Pattern[str], str | None]] = []
        self.pages: dict[str, Page] = {}
        self.shots: list[Path] = []

    def page(self, label: str = "main") -> Page:
        if label in self.pages:
            return self.pages[label]
        page = self.context.new_page()

        def on_console(message) -> None:
            if message.type == "error":
                location = message.location or {}
                self.errors.append(ConsoleError(label, "console.error", message.text, location.get("url", "")))

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(ConsoleError(label, "pageerror", str(error), page.url)))
        page.on("crash", lambda _: self.errors.append(ConsoleError(label, "crash", "the page crashed", page.url)))
        self.pages[label] = page
        return page

    def open(self, route: str = "#/", label: str = "main") -> Page:
        page = self.page(label)
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
        self.context.close()


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
