# Shared by scripts/run and scripts/test: installs what is missing, renders service configs.
# shellcheck shell=bash

MOBY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '\033[1m[moby]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[moby] %s\033[0m\n' "$*" >&2; exit 1; }

# apt_install PKG... : installs the Debian packages that are missing (as root, or with sudo).
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # Do not let the packages start system-wide daemons on the default ports; we run our own.
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || true
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

# ensure_tools: the Swift toolchain must exist (it does not come from apt); services come from apt.
ensure_tools() {
  command -v swift >/dev/null || [ -x /opt/swift/usr/bin/swift ] || die "Swift 6.1+ is required (https://swift.org/install)"
  command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
  apt_install mosquitto mosquitto-clients influxdb influxdb-client curl procps libsqlite3-dev sqlite3 openssl
  export PATH="$PATH:/usr/sbin:/sbin"
}

# render TEMPLATE OUT KEY=VALUE... : replaces @KEY@ placeholders of deploy/TEMPLATE.
render() {
  local template="$1" out="$2"; shift 2
  local text
  text="$(cat "$MOBY_ROOT/deploy/$template")"
  for pair in "$@"; do
    local key="${pair%%=*}" value="${pair#*=}"
    text="${text//@$key@/$value}"
  done
  printf '%s\n' "$text" > "$out"
}

# wait_port PORT WHAT [SECONDS]
wait_port() {
  local port="$1" what="$2" limit="${3:-30}" i=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    i=$((i + 1)); [ "$i" -gt $((limit * 10)) ] && die "$what did not start listening on port $port"
    sleep 0.1
  done
}
