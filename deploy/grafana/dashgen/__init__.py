"""Builds MOBY's Grafana dashboards from the sensor catalog (deploy/grafana/generate)."""
