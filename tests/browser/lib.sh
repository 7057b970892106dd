# Shared by tests/browser/run and tests/browser/measure: Debian packages and the Python venv.
# shellcheck shell=bash
BROWSER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$BROWSER_DIR/../harness/lib.sh"
VENV="$MOBY_ROOT/.build/browser-venv"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# ensure_browser_env: chromium, Korean fonts, venv, the services, and the pinned Python packages.
ensure_browser_env() {
  apt_install chromium fonts-noto-cjk python3-venv mosquitto mosquitto-clients influxdb curl
  ensure_venv "$VENV" "$BROWSER_DIR/requirements.txt"
}

# check_prerequisites: the binaries and the bundle are built by scripts/test (or by hand), not here.
check_prerequisites() {
  export MOBY_BIN="${MOBY_BIN:-$MOBY_ROOT/.build/debug}"
  export MOBY_WEB_DIR="${MOBY_WEB_DIR:-$MOBY_ROOT/web/dist}"
  export MOBY_TEST_PIDS="${MOBY_TEST_PIDS:-$MOBY_ROOT/.build/test-pids}"
  [ -x "$MOBY_BIN/moby-server" ] && [ -x "$MOBY_BIN/moby-sensor" ] ||
    die "no moby-server/moby-sensor in $MOBY_BIN: build them first (swift build) or set MOBY_BIN"
  [ -f "$MOBY_WEB_DIR/index.html" ] && [ -f "$MOBY_WEB_DIR/manifest.json" ] ||
    die "no console bundle in $MOBY_WEB_DIR: run web/build first"
  local current
  current="$("$MOBY_ROOT/web/build" --source-hash)"
  grep -q "\"source_hash\": \"$current\"" "$MOBY_WEB_DIR/manifest.json" ||
    say "warning: $MOBY_WEB_DIR is older than web/src (run web/build); testing it anyway"
}

# reap_leftovers: stops, by PID, services a crashed earlier browser run left (tests/harness/lib.sh).
reap_leftovers() { reap_leftovers_of "browser tests"; }
