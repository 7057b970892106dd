# Shared by the Python suites' runners (tests/browser, tests/deploy, tests/mqtt): their Python
# venv with pinned packages, and the reaping of services a crashed earlier run left behind.
# shellcheck shell=bash
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../scripts/lib.sh"
export PATH="$PATH:/usr/sbin:/sbin"

# ensure_venv VENV REQUIREMENTS: creates VENV (python3-venv must be installed) and installs the
# pinned REQUIREMENTS into it, again only when that file changed.
ensure_venv() {
  local venv="$1" requirements="$2"
  local python=/usr/bin/python3
  [ -x "$python" ] || python="$(command -v python3)"
  local stamp="$venv/.requirements.sha256" want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    "$python" -m venv "$venv" || die "python3 -m venv failed (apt-get install python3-venv)"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing ${requirements#"$MOBY_ROOT"/} into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements" || die "pip install failed"
    echo "$want" >"$stamp"
  fi
}

# reap_leftovers_of OWNER: stops, by PID, the services a crashed earlier run of the suite OWNER
# ("browser tests", "deploy tests", "mqtt tests") recorded in $MOBY_TEST_PIDS (tests/harness),
# only while that PID still runs one of our services; a recycled PID is left alone.
reap_leftovers_of() {
  local owner="$1"
  [ -d "$MOBY_TEST_PIDS" ] || return 0
  local file pid exe
  for file in "$MOBY_TEST_PIDS"/*; do
    [ -e "$file" ] || continue
    grep -qF "($owner)" "$file" 2>/dev/null || continue
    pid="$(basename "$file")"
    exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
    case "$exe" in
      */mosquitto|*/influxd|*/moby-server|*/moby-sensor|*/prometheus)
        say "stopping $(cat "$file") (pid $pid) left by an earlier run of the $owner"
        kill -KILL "$pid" 2>/dev/null || true ;;
    esac
    rm -f "$file"
  done
}
