"""Grafana's provisioning files agree with the dashboards, the Prometheus config and the
console: data source uids and types, the dashboard provider's path, embedding settings."""

from __future__ import annotations

import configparser
import re

import yaml

from dashboards import GRAFANA, NAMES, REPO, load, panels

PROVISIONING = GRAFANA / "provisioning"


def datasources() -> dict[str, dict]:
    data = yaml.safe_load((PROVISIONING / "datasources" / "moby.yaml").read_text())
    assert data["apiVersion"] == 1
    return {source["uid"]: source for source in data["datasources"]}


def grafana_ini() -> configparser.ConfigParser:
    ini = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    ini.read_string((GRAFANA / "grafana.ini").read_text())
    return ini


def test_data_sources():
    sources = datasources()
    assert set(sources) == {"moby-influxdb", "moby-prometheus"}
    influx, prometheus = sources["moby-influxdb"], sources["moby-prometheus"]
    assert influx["type"] == "influxdb" and influx["jsonData"]["version"] == "InfluxQL"
    assert influx["jsonData"]["dbName"] == "moby"
    assert prometheus["type"] == "prometheus"
    assert all(source["access"] == "proxy" and source["url"].startswith("${") for source in sources.values())


def test_every_data_source_a_dashboard_uses_is_provisioned_with_its_type():
    sources = datasources()
    for name in NAMES:
        board = load(name)
        refs = [p["datasource"] for p in panels(board)] + [t["datasource"] for p in panels(board) for t in p["targets"]]
        refs += [v["datasource"] for v in board["templating"]["list"]]
        refs += [a["datasource"] for a in board["annotations"]["list"] if not a.get("builtIn")]
        for ref in refs:
            assert ref["uid"] in sources and sources[ref["uid"]]["type"] == ref["type"], f"{name}: {ref}"


def test_prometheus_time_interval_is_the_scrape_interval():
    config = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
    assert datasources()["moby-prometheus"]["jsonData"]["timeInterval"] == config["global"]["scrape_interval"]
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "moby-server" and job["metrics_path"] == "/metrics"
    pipeline = " ".join(t["expr"] for p in panels(load("pipeline")) for t in p["targets"])
    assert 'job="moby-server"' in pipeline


def test_dashboard_provider_and_home_dashboard():
    data = yaml.safe_load((PROVISIONING / "dashboards" / "moby.yaml").read_text())
    (provider,) = data["providers"]
    assert provider["type"] == "file" and provider["allowUiUpdates"] is False
    path = provider["options"]["path"]
    assert path in (GRAFANA / "README.md").read_text(), "the README documents where the dashboards go"
    home = grafana_ini()["dashboards"]["default_home_dashboard_path"]
    assert home.startswith(path + "/") and (GRAFANA / "dashboards" / home.rsplit("/", 1)[1]).is_file()


def test_embedding_and_anonymous_viewers():
    ini = grafana_ini()
    assert ini.getboolean("security", "allow_embedding")
    assert ini.getboolean("auth.anonymous", "enabled") and ini["auth.anonymous"]["org_role"] == "Viewer"
    assert not ini.has_section("auth.proxy"), "the auth proxy is the documented alternative, off by default"
    text = (GRAFANA / "grafana.ini").read_text()
    assert ";[auth.proxy]" in text


def test_the_console_embeds_the_sensors_dashboard_by_uid_and_device_variable():
    settings = (REPO / "Sources" / "MobyServer" / "Application" / "ServerConfiguration.swift").read_text()
    default_uid = re.search(r'"moby\.grafana\.dashboard", defaultValue: "([^"]+)"', settings).group(1)
    assert default_uid == load("sensors")["uid"]
    charts = (REPO / "web" / "src" / "logic" / "charts.ts").read_text()
    assert "var-device=" in charts
    variables = load("sensors")["templating"]["list"]
    assert "device" in [v["name"] for v in variables]
    # The console sets only var-device: every other variable starts at All.
    assert all(v["current"]["value"] == ["$__all"] for v in variables)
