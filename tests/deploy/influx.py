"""InfluxDB 1.x HTTP API for the tests: /query with GET (reads) or POST (writes, DDL)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any


class Influx:
    def __init__(self, port: int, database: str = "moby"):
        self.base = f"http://127.0.0.1:{port}"
        self.database = database

    def query(self, text: str, write: bool = False, timeout: float = 30) -> dict[str, Any]:
        params = urllib.parse.urlencode({"db": self.database, "q": text, "epoch": "ms"})
        if write:
            request = urllib.request.Request(f"{self.base}/query", data=params.encode(), method="POST")
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        else:
            request = urllib.request.Request(f"{self.base}/query?{params}")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def write(self, lines: str) -> None:
        """Line protocol into the default retention policy (ns precision)."""
        request = urllib.request.Request(f"{self.base}/write?db={self.database}", data=lines.encode(), method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status != 204:
                raise AssertionError(f"InfluxDB /write: HTTP {response.status}: {response.read()!r}")

    def series(self, text: str, write: bool = False, timeout: float = 30) -> list[dict[str, Any]]:
        """The series of a single-statement query; raises on any error InfluxDB reports."""
        body = self.query(text, write, timeout)
        if "error" in body:
            raise AssertionError(f"InfluxDB: {body['error']}\n  query: {text}")
        found = []
        for result in body.get("results", []):
            if "error" in result:
                raise AssertionError(f"InfluxDB: {result['error']}\n  query: {text}")
            found += result.get("series", [])
        return found

    def value(self, text: str, column: int = 1) -> Any:
        series = self.series(text)
        return series[0]["values"][0][column] if series else None
