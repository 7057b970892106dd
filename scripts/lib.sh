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

# percent_encode TEXT: TEXT for the user or password part of a URL (RFC 3986 unreserved kept).
percent_encode() {
  local LC_ALL=C text="$1" out="" c i
  for ((i = 0; i < ${#text}; i++)); do
    c="${text:i:1}"
    case "$c" in
      [A-Za-z0-9._~-]) out+="$c" ;;
      *) printf -v c '%%%02X' "'$c"; out+="$c" ;;
    esac
  done
  printf '%s' "$out"
}

# device_ids COUNT [PREFIX]: the ids moby-sensor gives COUNT simulated devices (sensor_001, …;
# the number is zero-padded to at least 3 digits, as in SensorCommand.simulatedDevices).
device_ids() {
  local count="$1" prefix="${2:-sensor_}" width i
  width=${#count}
  [ "$width" -ge 3 ] || width=3
  for ((i = 1; i <= count; i++)); do printf '%s%0*d\n' "$prefix" "$width" "$i"; done
}

# broker_credentials DIR DEVICES: the users of the local broker in DIR (deploy/mosquitto/moby-mqtt-user:
# DIR/passwd, DIR/acl), made once and kept across runs: server user moby-server (password in
# DIR/server.password), viewer moby-viewer (DIR/viewer.password), and a device user per simulated
# device (sensor_001, …), listed in DIR/sensor-credentials, moby-sensor's --credentials file
# (device_id username password). A user whose kept password is gone gets a new one. Changes files
# only: the broker is started (or reloaded) after.
broker_credentials() {
  local dir="$1" devices="$2" listed password id table
  mkdir -p "$dir"
  listed="$("$MOBY_ROOT/deploy/mosquitto/moby-mqtt-user" --dir "$dir" list)" || die "moby-mqtt-user list failed"
  (
    umask 077
    password="$(kept_or_new_password server moby-server "$dir/server.password")" || exit 1
    printf 'moby-server %s\n' "$password" >"$dir/server.password"
    password="$(kept_or_new_password viewer moby-viewer "$dir/viewer.password")" || exit 1
    printf 'moby-viewer %s\n' "$password" >"$dir/viewer.password"
    table="# moby-sensor --credentials (written by scripts/run): device_id username password"$'\n'
    for id in $(device_ids "$devices"); do
      password="$(kept_or_new_password device "$id" "$dir/sensor-credentials")" || exit 1
      table+="$id $id $password"$'\n'
    done
    # Devices of an earlier run with more devices keep their lines while they are users.
    if [ -s "$dir/sensor-credentials" ]; then
      while read -r id _ password; do
        case "$id" in '#'*|'') continue ;; esac
        grep -q "^$id " <<<"$table" || ! grep -qxF "device $id" <<<"$listed" || table+="$id $id $password"$'\n'
      done <"$dir/sensor-credentials"
    fi
    printf '%s' "$table" >"$dir/sensor-credentials"
  ) || die "could not make the broker's credentials in $dir"
}

# kept_or_new_password KIND NAME FILE: NAME's password kept in FILE (lines ending in "NAME
# PASSWORD") while NAME is a KIND user of the broker ($listed); else a new one from
# moby-mqtt-user (add, or passwd when NAME exists).
kept_or_new_password() {
  local kind="$1" name="$2" kept="$3" secret="" tool="$MOBY_ROOT/deploy/mosquitto/moby-mqtt-user"
  [ -s "$kept" ] && secret="$(secret "$name" "$kept")"
  if [ -n "$secret" ] && grep -qxF "$kind $name" <<<"$listed"; then
    printf '%s\n' "$secret"
  elif awk -v n="$name" '$2 == n { found = 1 } END { exit !found }' <<<"$listed"; then
    "$tool" --dir "$dir" --no-reload passwd "$name" || die "moby-mqtt-user passwd $name failed"
  else
    "$tool" --dir "$dir" --no-reload add "$kind" "$name" || die "moby-mqtt-user add $kind $name failed"
  fi
}

# secret NAME FILE: the password kept for user NAME in FILE (its lines end in "NAME PASSWORD").
secret() { awk -v n="$1" '!/^#/ && $(NF - 1) == n { print $NF; exit }' "$2"; }

# influx_users DIR PORT: InfluxDB's users for scripts/run, once (DIR/users-made): moby-admin (all
# privileges; the first user may be made without credentials), moby-server (all privileges: it
# creates the database, retention policies and continuous query at start) and moby-grafana (READ
# on moby). Passwords are random, kept in DIR/{admin,server,grafana}.password (mode 600).
influx_users() {
  local dir="$1" port="$2" name file
  [ -f "$dir/users-made" ] && return 0
  for name in admin server grafana; do
    file="$dir/$name.password"
    [ -s "$file" ] || (umask 077 && openssl rand -hex 16 >"$file")
  done
  influx_query() {
    local answer
    answer="$(curl -s -XPOST "http://127.0.0.1:$port/query" "$@")"
    case "$answer" in *'"error"'*) die "InfluxDB: $answer" ;; esac
  }
  influx_query --data-urlencode "q=CREATE USER \"moby-admin\" WITH PASSWORD '$(cat "$dir/admin.password")' WITH ALL PRIVILEGES"
  local admin=(-u "moby-admin:$(cat "$dir/admin.password")")
  influx_query "${admin[@]}" --data-urlencode "q=CREATE USER \"moby-server\" WITH PASSWORD '$(cat "$dir/server.password")' WITH ALL PRIVILEGES"
  influx_query "${admin[@]}" --data-urlencode "q=CREATE DATABASE moby"
  influx_query "${admin[@]}" --data-urlencode "q=CREATE USER \"moby-grafana\" WITH PASSWORD '$(cat "$dir/grafana.password")'"
  influx_query "${admin[@]}" --data-urlencode "q=GRANT READ ON \"moby\" TO \"moby-grafana\""
  touch "$dir/users-made"
}
