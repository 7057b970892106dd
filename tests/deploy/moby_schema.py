"""The InfluxDB layout moby-server sets up at every start with its default settings, as InfluxQL
statements for the Python tools that need it without (or before) a server: the deploy tests'
seed and bench/dashboard_queries. Keep in line with Sources/Influx/InfluxClient.swift
(`ensureDatabase`) and Sources/Influx/InfluxClient+Downsampling.swift (`ensureDownsampling`,
`continuousQuery(for:)`): database `moby`, default retention policy `raw` (30d), long-term tier
`long_term` (365d) filled per minute by the continuous query `sensors_long_term`."""

from __future__ import annotations

DATABASE = "moby"
RAW_RP = "raw"
RAW_RETENTION = "30d"
LONG_TERM_RP = "long_term"
LONG_TERM_RETENTION = "365d"
INTERVAL = "1m"      # MOBY_INFLUX_DOWNSAMPLE_INTERVAL
RESAMPLE_FOR = "5m"  # five intervals: the last few minutes are recomputed for late readings
MEASUREMENT = "sensors"
CONTINUOUS_QUERY = f"{MEASUREMENT}_{LONG_TERM_RP}"

CREATE_DATABASE = f'CREATE DATABASE "{DATABASE}"'
# ensureDatabase creates the raw policy as the default one (ALTER ... DEFAULT when it exists).
CREATE_RAW_RP = f'CREATE RETENTION POLICY "{RAW_RP}" ON "{DATABASE}" DURATION {RAW_RETENTION} REPLICATION 1 DEFAULT'
# ensureDownsampling creates the tier's policy, not as the default.
CREATE_LONG_TERM_RP = (f'CREATE RETENTION POLICY "{LONG_TERM_RP}" ON "{DATABASE}" DURATION {LONG_TERM_RETENTION} '
                       "REPLICATION 1")


def downsample(where: str) -> str:
    """The continuous query's SELECT ... INTO for the raw points `where` selects (a time range):
    mean, min and max of every field per minute and device (`GROUP BY *` keeps the tags), written
    as `mean_<field>`, `min_<field>`, `max_<field>` into the long-term tier. InfluxDB runs the
    same statement every minute over the last five."""
    return (f'SELECT mean(*), min(*), max(*) INTO "{DATABASE}"."{LONG_TERM_RP}"."{MEASUREMENT}" '
            f'FROM "{DATABASE}"."{RAW_RP}"."{MEASUREMENT}" WHERE {where} GROUP BY time({INTERVAL}), *')


CREATE_CONTINUOUS_QUERY = (
    f'CREATE CONTINUOUS QUERY "{CONTINUOUS_QUERY}" ON "{DATABASE}" RESAMPLE EVERY {INTERVAL} FOR {RESAMPLE_FOR} '
    f'BEGIN SELECT mean(*), min(*), max(*) INTO "{DATABASE}"."{LONG_TERM_RP}"."{MEASUREMENT}" '
    f'FROM "{DATABASE}"."{RAW_RP}"."{MEASUREMENT}" GROUP BY time({INTERVAL}), * END')

# What a fresh server runs, in order (the SHOW statements it reads in between left out).
SETUP = (CREATE_DATABASE, CREATE_RAW_RP, CREATE_LONG_TERM_RP, CREATE_CONTINUOUS_QUERY)
