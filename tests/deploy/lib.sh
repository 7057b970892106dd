# tests/deploy/run's set-up: Debian packages, the Python venv, leftovers of a crashed run.
# shellcheck shell=bash
DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$DEPLOY_DIR/../harness/lib.sh"
VENV="$MOBY_ROOT/.build/deploy-venv"

# ensure_deploy_env: Prometheus 2.42 (and promtool), the services, and the pinned Python packages.
ensure_deploy_env() {
  apt_install prometheus python3-venv mosquitto influxdb curl shellcheck python3-yaml python3-seccomp strace
  ensure_venv "$VENV" "$DEPLOY_DIR/requirements.txt"
}

# check_binaries: moby-server is built by scripts/test (or by hand), not here.
check_binaries() {
  export MOBY_BIN="${MOBY_BIN:-$MOBY_ROOT/.build/debug}"
  export MOBY_TEST_PIDS="${MOBY_TEST_PIDS:-$MOBY_ROOT/.build/test-pids}"
  [ -x "$MOBY_BIN/moby-server" ] && [ -x "$MOBY_BIN/moby-sensor" ] ||
    die "no moby-server/moby-sensor in $MOBY_BIN: build them first (swift build) or set MOBY_BIN"
}

# reap_leftovers: stops, by PID, services a crashed earlier deploy run left (tests/harness/lib.sh).
reap_leftovers() { reap_leftovers_of "deploy tests"; }
