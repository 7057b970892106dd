"""The benchmark's credential for moby-server's API: the admin token `pipeline.sh` creates before
the server starts, passed in `MOBY_BENCH_TOKEN` (no token: no header, for `MOBY_AUTH=off`)."""

import os


def headers():
    token = os.environ.get("MOBY_BENCH_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}
