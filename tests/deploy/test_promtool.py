"""promtool (Prometheus 2.42's own checker) accepts the deployed config and rules, and the
rules' unit tests (rules_test.yml: synthetic series, expected alerts) pass."""

from __future__ import annotations

import subprocess
from pathlib import Path

from dashboards import REPO
from moby_harness import find_executable

PROMETHEUS = REPO / "deploy" / "prometheus"
RULE_TESTS = Path(__file__).parent / "rules_test.yml"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([find_executable("promtool"), *args], capture_output=True, text=True, timeout=60)


def test_check_config(tmp_path):
    # The deployed file as is, but for its scrape token (made after install: deploy/README.md),
    # which promtool wants to exist; the rules stay where the file says (next to it).
    token = tmp_path / "moby-token"
    token.write_text("stand-in\n")
    text = (PROMETHEUS / "prometheus.yml").read_text()
    assert text.count("credentials_file: /etc/prometheus/moby-token") == 1
    config = PROMETHEUS / ".promtool-check.yml"
    config.write_text(text.replace("credentials_file: /etc/prometheus/moby-token", f"credentials_file: {token}"))
    try:
        result = promtool("check", "config", str(config))
    finally:
        config.unlink()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


def test_check_rules():
    result = promtool("check", "rules", *map(str, sorted((PROMETHEUS / "rules").glob("*.yml"))))
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_rules_can_fail(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(moby_spool_readings[5m]\n")
    assert promtool("check", "rules", str(broken)).returncode != 0


def test_rule_unit_tests():
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
