"""Fixtures of the deploy checks: one real pipeline for the session (Mosquitto, influxd,
moby-server from tests/harness, and Prometheus 2.42 scraping that server), with readings and
alerts ingested through the server. Static checks (generator, dashboard JSON, provisioning,
promtool, api/check) need none of it; schemathesis (test_openapi.py) runs last against it."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from influx import Influx  # noqa: E402
from moby_harness import Stack  # noqa: E402
from prometheus import Prometheus  # noqa: E402
from seed import Seed, ingest  # noqa: E402


@dataclass
class Pipeline:
    stack: Stack
    influx: Influx
    prometheus: Prometheus
    seed: Seed

    @property
    def instance(self) -> str:
        """Prometheus's instance label of the test's moby-server."""
        return self.prometheus.target


def pytest_collection_modifyitems(items):
    """Tests marked `writes_pipeline` change the shared pipeline in ways the others would see
    (schemathesis publishes random readings, registers random devices, acknowledges and resolves
    the seeded alerts): they run after every other test, in their own order (the sort is stable)."""
    items.sort(key=lambda item: item.get_closest_marker("writes_pipeline") is not None)


@pytest.fixture(scope="session")
def pipeline(request):
    stack = Stack("deploy", console=False, owner="deploy tests").start()
    prometheus = None
    try:
        # Started before the readings so its first scrapes (about 5 s after start) overlap them.
        prometheus = Prometheus(stack.dir / "prometheus", f"127.0.0.1:{stack.http_port}",
                                stack.create_token("viewer", name="prometheus")).start()
        influx = Influx(stack.influx_port)
        yield Pipeline(stack, influx, prometheus, ingest(stack, influx))
    finally:
        if prometheus:
            prometheus.stop()
        stack.stop()
        if request.session.testsfailed == 0:
            shutil.rmtree(stack.dir, ignore_errors=True)
        else:
            print(f"\nlogs of the deploy pipeline (Mosquitto, influxd, moby-server, Prometheus): {stack.dir}")
