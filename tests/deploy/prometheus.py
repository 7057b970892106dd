"""A real Prometheus (Debian's /usr/bin/prometheus) for the tests: deploy/prometheus/prometheus.yml
with the test's target, a 1 s scrape and evaluation interval and the rules by absolute path,
on a free loopback port, data in a temporary folder, its PID recorded like the harness's."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from moby_harness import REPO, Service, find_executable, free_port, wait_for

CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"
RULES = REPO / "deploy" / "prometheus" / "rules"


def test_config(target: str, token_file: Path) -> str:
    """The deployed config with only the target, the intervals and the rules' path changed (each
    must be found exactly once, so the test runs the deployed job, path and rules)."""
    text = CONFIG.read_text()
    for old, new in (("scrape_interval: 15s", "scrape_interval: 1s"),
                     ("evaluation_interval: 15s", "evaluation_interval: 1s"),
                     ('"localhost:8080"', f'"{target}"'),
                     ("- rules/*.yml", f"- {RULES}/*.yml"),
                     ("credentials_file: /etc/prometheus/moby-token", f"credentials_file: {token_file}")):
        assert text.count(old) == 1, f"{CONFIG} should contain {old!r} once"
        text = text.replace(old, new)
    return text


class Prometheus:
    def __init__(self, directory: Path, target: str, token: str):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.target = target
        self.port = free_port()
        token_file = self.dir / "moby-token"
        token_file.write_text(token + "\n")
        config = self.dir / "prometheus.yml"
        config.write_text(test_config(target, token_file))
        self.service = Service("prometheus", [
            find_executable("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={self.dir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn",
        ], self.dir / "prometheus.log", owner="deploy tests")

    def start(self) -> "Prometheus":
        self.service.start()
        return self

    def stop(self) -> None:
        self.service.stop(timeout=10)

    def api(self, path: str, **params: str) -> Any:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        data = urllib.parse.urlencode(params).encode() if params else None
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as error:
            body = json.loads(error.read())
        if body.get("status") != "success":
            raise AssertionError(f"Prometheus {path}: {body.get('errorType')}: {body.get('error')} {params}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result; raises when Prometheus reports an error (a parse error too)."""
        data = self.api("query", query=expr)
        return data["result"] if data["resultType"] in ("vector", "matrix") else [data]

    def wait_ready(self, samples: int = 4) -> None:
        """Until the server was scraped `samples` times (rate() over the test's 30 s needs two)
        and the rules were evaluated."""
        def scraped() -> bool:
            if self.service.pid is None:
                raise AssertionError(f"prometheus exited:\n{self.service.log_tail()}")
            result = self.query(f'count_over_time(up{{instance="{self.target}"}}[1m])')
            return bool(result) and float(result[0]["value"][1]) >= samples

        wait_for(f"{samples} scrapes of {self.target} by Prometheus (log {self.service.log})", scraped, 40, 0.25)
