# Shared by tests/browser/run and tests/browser/measure: Debian packages and the Python venv.
# shellcheck shell=bash
BROWSER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$BROWSER_DIR/../../scripts/lib.sh"
VENV="$MOBY_ROOT/.build/browser-venv"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export PATH="$PATH:/usr/sbin:/sbin"

# ensure_browser_env: chromium, Korean fonts, venv, the services, and the pinned Python packages.
ensure_browser_env() {
  apt_install chromium fonts-noto-cjk python3-venv mosquitto mosquitto-clients influxdb curl
  local python=/usr/bin/python3
  [ -x "$python" ] || python="$(command -v python3)"
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$BROWSER_DIR/requirements.txt" | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$python" -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing tests/browser/requirements.txt into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$BROWSER_DIR/requirements.txt" ||
      die "pip install failed"
    echo "$want" >"$stamp"
  fi
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

# reap_leftovers: stops, by PID, services a crashed earlier run recorded in $MOBY_TEST_PIDS
# (only while that PID still runs one of our services; a recycled PID is left alone).
reap_leftovers() {
  [ -d "$MOBY_TEST_PIDS" ] || return 0
  local file pid exe
  for file in "$MOBY_TEST_PIDS"/*; do
    [ -e "$file" ] || continue
    grep -q "(browser tests)" "$file" 2>/dev/null || continue
    pid="$(basename "$file")"
    exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
    case "$exe" in
      */mosquitto|*/influxd|*/moby-server|*/moby-sensor)
        say "stopping $(cat "$file") (pid $pid) left by an earlier browser run"
        kill -KILL "$pid" 2>/dev/null || true ;;
    esac
    rm -f "$file"
  done
}
