# tests/deploy/run's set-up: Debian packages, the Python venv, leftovers of a crashed run.
# shellcheck shell=bash
DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$DEPLOY_DIR/../../scripts/lib.sh"
VENV="$MOBY_ROOT/.build/deploy-venv"
export PATH="$PATH:/usr/sbin:/sbin"

# ensure_deploy_env: Prometheus 2.42 (and promtool), the services, and the pinned Python packages.
ensure_deploy_env() {
  apt_install prometheus python3-venv mosquitto influxdb curl shellcheck python3-yaml python3-seccomp strace
  local python=/usr/bin/python3
  [ -x "$python" ] || python="$(command -v python3)"
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$DEPLOY_DIR/requirements.txt" | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$python" -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing tests/deploy/requirements.txt into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$DEPLOY_DIR/requirements.txt" ||
      die "pip install failed"
    echo "$want" >"$stamp"
  fi
}

# check_binaries: moby-server is built by scripts/test (or by hand), not here.
check_binaries() {
  export MOBY_BIN="${MOBY_BIN:-$MOBY_ROOT/.build/debug}"
  export MOBY_TEST_PIDS="${MOBY_TEST_PIDS:-$MOBY_ROOT/.build/test-pids}"
  [ -x "$MOBY_BIN/moby-server" ] && [ -x "$MOBY_BIN/moby-sensor" ] ||
    die "no moby-server/moby-sensor in $MOBY_BIN: build them first (swift build) or set MOBY_BIN"
}

# reap_leftovers: stops, by PID, services a crashed earlier deploy run recorded in
# $MOBY_TEST_PIDS (only while that PID still runs one of our services; a recycled PID is left alone).
reap_leftovers() {
  [ -d "$MOBY_TEST_PIDS" ] || return 0
  local file pid exe
  for file in "$MOBY_TEST_PIDS"/*; do
    [ -e "$file" ] || continue
    grep -q "(deploy tests)" "$file" 2>/dev/null || continue
    pid="$(basename "$file")"
    exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
    case "$exe" in
      */mosquitto|*/influxd|*/moby-server|*/moby-sensor|*/prometheus)
        say "stopping $(cat "$file") (pid $pid) left by an earlier deploy run"
        kill -KILL "$pid" 2>/dev/null || true ;;
    esac
    rm -f "$file"
  done
}
